package io.hacluster.security;

import io.hacluster.discovery.ConnectionSource;
import io.hacluster.gossip.Keyring;
import io.hacluster.schema.LibrarySchema;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/**
 * The cluster's gossip key kept in the database, as Mattermost keeps its
 * {@code ClusterEncryptionKey} in the {@code Systems} table: the first node to start generates a
 * random 32-byte key and stores it; every node, that one included, then reads the stored key, so
 * nodes started together agree on one key whoever wins. The table is the library's own
 * ({@code HaClusterSystems}), created under the library's schema lock; one row per cluster name.
 *
 * <p>The key is only ever returned to the caller: it is not logged, and no exception carries it.
 */
public final class GossipKeyStore {

    /** Row name of the gossip key, Mattermost's name for the same thing. */
    static final String KEY_NAME = "ClusterEncryptionKey";

    static final String CREATE_TABLE = "CREATE TABLE IF NOT EXISTS HaClusterSystems ("
            + "ClusterName VARCHAR(64) NOT NULL, "
            + "Name VARCHAR(64) NOT NULL, "
            + "Value TEXT NOT NULL, "
            + "PRIMARY KEY (ClusterName, Name))";

    private final ConnectionSource connections;
    private final String clusterName;

    public GossipKeyStore(ConnectionSource connections, String clusterName) {
        this.connections = connections;
        this.clusterName = clusterName;
    }

    /**
     * Replaces the stored key (after a cluster-wide {@code useKey}), so that nodes started later
     * take the key the cluster now encrypts with.
     *
     * @throws SQLException when the database cannot be reached or the row is missing
     */
    public void replace(byte[] key) throws SQLException {
        Keyring.validate(key);
        try (Connection c = connections.open(); PreparedStatement update = c.prepareStatement(
                "UPDATE HaClusterSystems SET Value = ? WHERE ClusterName = ? AND Name = ?")) {
            update.setString(1, Keyring.encodeKey(key));
            update.setString(2, clusterName);
            update.setString(3, KEY_NAME);
            if (update.executeUpdate() != 1) {
                throw new SQLException("no gossip key row for cluster '" + clusterName + "' to replace");
            }
        }
    }

    /**
     * The cluster's key: the stored one, or a new random one stored now if there was none.
     * Concurrent first starts are safe: {@code INSERT ... ON CONFLICT DO NOTHING} lets exactly one
     * key in, and every caller returns what the row then holds.
     *
     * @throws SQLException when the database cannot be reached or the stored value is not a valid
     *     key (the message names the problem, never the value)
     */
    public byte[] loadOrCreate() throws SQLException {
        try (Connection c = connections.open()) {
            LibrarySchema.createIfMissing(c, List.of(CREATE_TABLE));
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO HaClusterSystems (ClusterName, Name, Value) "
                    + "VALUES (?, ?, ?) ON CONFLICT (ClusterName, Name) DO NOTHING")) {
                insert.setString(1, clusterName);
                insert.setString(2, KEY_NAME);
                insert.setString(3, Keyring.encodeKey(Keyring.generateKey()));
                insert.executeUpdate();
            }
            try (PreparedStatement select = c.prepareStatement(
                    "SELECT Value FROM HaClusterSystems WHERE ClusterName = ? AND Name = ?")) {
                select.setString(1, clusterName);
                select.setString(2, KEY_NAME);
                try (ResultSet rs = select.executeQuery()) {
                    if (!rs.next()) {
                        throw new SQLException("the gossip key row of cluster '" + clusterName
                                + "' vanished right after it was written");
                    }
                    try {
                        return Keyring.decodeKey(rs.getString(1));
                    } catch (IllegalArgumentException e) {
                        throw new SQLException("HaClusterSystems." + KEY_NAME + " of cluster '" + clusterName
                                + "' is not a valid gossip key: " + e.getMessage());
                    }
                }
            }
        }
    }
}
