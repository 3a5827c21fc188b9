package io.hacluster.db;

import java.io.PrintWriter;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A plain {@link DataSource} over a {@link DatabaseRouter}, for code that only knows JDBC
 * (ORMs, Spring's transaction managers, migration tools).
 *
 * <p>{@link #getConnection()} returns a lazy connection: no server is chosen until the first
 * call that needs one (creating a statement, reading metadata, ...). Until then
 * {@code setAutoCommit}, {@code setReadOnly} and {@code setTransactionIsolation} are only
 * recorded, and {@code commit}/{@code rollback}/{@code close} do nothing. When it binds, it goes to
 * a replica if {@code setReadOnly(true)} was called before, or if the thread is inside
 * {@link DatabaseRouter#readOnly(SqlSupplier)}; otherwise to the master. Recorded settings are
 * then applied to the real connection. Once bound, the connection stays where it is.
 *
 * <p>This is what makes {@code @Transactional(readOnly = true)} style code work: transaction
 * managers fetch the connection <em>before</em> they call {@code setReadOnly}.
 */
public final class RoutingDataSource implements DataSource {

    private final DatabaseRouter router;
    private volatile PrintWriter logWriter;

    RoutingDataSource(DatabaseRouter router) {
        this.router = router;
    }

    @Override
    public Connection getConnection() {
        LazyConnection handler = new LazyConnection(router, router.inReadOnlyScope());
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, handler);
    }

    /** Not supported: every server's credentials come from its DSN. */
    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("credentials come from the router's DSNs");
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        logWriter = out;
    }

    /** Ignored: connect timeouts come from the router's settings. */
    @Override
    public void setLoginTimeout(int seconds) {
    }

    @Override
    public int getLoginTimeout() {
        return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("uses SLF4J");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        if (iface.isInstance(router)) {
            return iface.cast(router);
        }
        throw new SQLException("not a wrapper for " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this) || iface.isInstance(router);
    }
}
