package io.hacluster.discovery;

import io.hacluster.schema.LibrarySchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * SQL for the {@code ClusterDiscovery} table, with Mattermost's columns and types so a
 * Mattermost database's table is used as it is. Every statement goes to the master.
 *
 * <p>The logical key of a row is (Type, ClusterName, Hostname, GossipPort). Mattermost keys on
 * the first three only, which assumes one node per host; two nodes sharing a host (several
 * nodes on 127.0.0.1 in tests, containers on the host network) would then delete each other's
 * rows. Two live nodes can never share a host and gossip port, since the second could not bind
 * it, so adding the port keeps the key unique without merging distinct nodes.
 */
final class DiscoveryStore {

    static final String CREATE_TABLE = "CREATE TABLE IF NOT EXISTS ClusterDiscovery ("
            + "Id VARCHAR(26) PRIMARY KEY, Type VARCHAR(64), ClusterName VARCHAR(64), "
            + "Hostname VARCHAR(512), GossipPort INTEGER, Port INTEGER, CreateAt BIGINT, LastPingAt BIGINT)";

    private final ConnectionSource connections;

    DiscoveryStore(ConnectionSource connections) {
        this.connections = connections;
    }

    /**
     * Creates the table when missing, under the library's schema lock: nodes started together
     * against a fresh database would otherwise race in {@code CREATE TABLE IF NOT EXISTS}, which
     * PostgreSQL does not make atomic.
     */
    void createTableIfMissing() throws SQLException {
        try (Connection c = connections.open()) {
            LibrarySchema.createIfMissing(c, List.of(CREATE_TABLE));
        }
    }

    /** The database's {@code clock_timestamp()} as epoch milliseconds. */
    long databaseMillis() throws SQLException {
        try (Connection c = connections.open();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Deletes the rows not refreshed since {@code cutoffMillis}; returns how many. */
    int cleanup(long cutoffMillis) throws SQLException {
        try (Connection c = connections.open();
             PreparedStatement ps = c.prepareStatement("DELETE FROM ClusterDiscovery WHERE LastPingAt < ?")) {
            ps.setLong(1, cutoffMillis);
            return ps.executeUpdate();
        }
    }

    /**
     * Replaces this node's row: removes a row with the same id (a restart with a persisted id)
     * or the same logical key (a previous process on this host and port), then inserts, in one
     * transaction so peers never see two rows for one node.
     */
    void replace(DiscoveryRow row) throws SQLException {
        try (Connection c = connections.open()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                try (PreparedStatement del = c.prepareStatement("DELETE FROM ClusterDiscovery WHERE Id = ? "
                        + "OR (Type = ? AND ClusterName = ? AND Hostname = ? AND GossipPort = ?)")) {
                    del.setString(1, row.id());
                    del.setString(2, row.type());
                    del.setString(3, row.clusterName());
                    del.setString(4, row.hostname());
                    del.setInt(5, row.gossipPort());
                    del.executeUpdate();
                }
                try (PreparedStatement ins = c.prepareStatement("INSERT INTO ClusterDiscovery "
                        + "(Id, Type, ClusterName, Hostname, GossipPort, Port, CreateAt, LastPingAt) "
                        + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                    ins.setString(1, row.id());
                    ins.setString(2, row.type());
                    ins.setString(3, row.clusterName());
                    ins.setString(4, row.hostname());
                    ins.setInt(5, row.gossipPort());
                    ins.setInt(6, row.port());
                    ins.setLong(7, row.createAt());
                    ins.setLong(8, row.lastPingAt());
                    ins.executeUpdate();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        }
    }

    /** Sets LastPingAt of row {@code id}; returns false when the row is gone. */
    boolean touch(String id, long nowMillis) throws SQLException {
        try (Connection c = connections.open();
             PreparedStatement ps = c.prepareStatement("UPDATE ClusterDiscovery SET LastPingAt = ? WHERE Id = ?")) {
            ps.setLong(1, nowMillis);
            ps.setString(2, id);
            return ps.executeUpdate() > 0;
        }
    }

    /** Rows of {@code type} and {@code clusterName} refreshed after {@code cutoffMillis}. */
    List<DiscoveryRow> list(String type, String clusterName, long cutoffMillis) throws SQLException {
        try (Connection c = connections.open();
             PreparedStatement ps = c.prepareStatement("SELECT Id, Type, ClusterName, Hostname, GossipPort, Port, "
                     + "CreateAt, LastPingAt FROM ClusterDiscovery WHERE Type = ? AND ClusterName = ? "
                     + "AND LastPingAt > ? ORDER BY Id")) {
            ps.setString(1, type);
            ps.setString(2, clusterName);
            ps.setLong(3, cutoffMillis);
            List<DiscoveryRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new DiscoveryRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getInt(5), rs.getInt(6), rs.getLong(7), rs.getLong(8)));
                }
            }
            return rows;
        }
    }

    /** Deletes row {@code id}; returns whether it existed. */
    boolean delete(String id) throws SQLException {
        try (Connection c = connections.open();
             PreparedStatement ps = c.prepareStatement("DELETE FROM ClusterDiscovery WHERE Id = ?")) {
            ps.setString(1, id);
            return ps.executeUpdate() > 0;
        }
    }
}
