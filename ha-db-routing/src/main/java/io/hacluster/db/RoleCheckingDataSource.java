package io.hacluster.db;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The physical-connection factory behind each HikariCP pool. It checks the server's role once,
 * when a connection is opened, so the borrow path stays free of extra round trips: a master pool
 * refuses a server in recovery, a replica pool refuses one that is not.
 *
 * <p>On PostgreSQL 14+ the check costs nothing: the server reports {@code in_hot_standby} in the
 * startup handshake. Older servers get one {@code SELECT pg_is_in_recovery()}.
 *
 * <p>Replica and search-replica connections also learn which {@link ServerIncarnation} they
 * reached (one {@code SELECT pg_postmaster_start_time()}) and are registered in the server's
 * {@link OpenedConnections}.
 */
final class RoleCheckingDataSource implements DataSource {

    private final PGSimpleDataSource delegate;
    private final ServerTier tier;
    private final String label;
    private final OpenedConnections opened;

    /** @param opened where replica connections are registered; null for the master */
    RoleCheckingDataSource(PGSimpleDataSource delegate, ServerTier tier, String label, OpenedConnections opened) {
        this.delegate = delegate;
        this.tier = tier;
        this.label = label;
        this.opened = opened;
    }

    @Override
    public Connection getConnection() throws SQLException {
        Connection connection = delegate.getConnection();
        try {
            boolean inRecovery = inRecovery(connection);
            if (tier == ServerTier.MASTER && inRecovery) {
                throw new SQLException("refusing " + label + " as master: the server is in recovery (a standby)",
                        SqlStates.WRONG_ROLE);
            }
            if (tier != ServerTier.MASTER && !inRecovery) {
                throw new SQLException("refusing " + label + " as " + tier.shortName()
                        + ": the server is not in recovery (a primary, perhaps promoted)", SqlStates.WRONG_ROLE);
            }
            if (opened != null) {
                opened.register(connection, ServerIncarnation.of(connection));
            }
            return connection;
        } catch (SQLException | RuntimeException e) {
            closeQuietly(connection, e);
            throw e;
        }
    }

    static boolean inRecovery(Connection connection) throws SQLException {
        String reported = connection.unwrap(PGConnection.class).getParameterStatus("in_hot_standby");
        if (reported != null) {
            return "on".equals(reported);
        }
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private static void closeQuietly(Connection connection, Exception primary) {
        try {
            connection.close();
        } catch (SQLException e) {
            primary.addSuppressed(e);
        }
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("credentials come from the DSN");
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return delegate.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        delegate.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        delegate.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return delegate.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return delegate.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("not a wrapper for " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }
}
