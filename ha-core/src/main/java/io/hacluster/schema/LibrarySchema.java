package io.hacluster.schema;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Creates the database objects this library owns (the {@code ClusterDiscovery} table, and the
 * election and job tables) so that nodes started together against a fresh database all succeed.
 *
 * <p>PostgreSQL's {@code CREATE TABLE IF NOT EXISTS} checks the catalog and then creates; two
 * sessions running it at once can both pass the check, and the slower one fails on a catalog
 * unique index: {@code 42710 type "..." already exists}, {@code 23505} on
 * {@code pg_type_typname_nsp_index}, or {@code 42P07}. App servers of a cluster are routinely
 * started together, so every creation here runs in one transaction that first takes
 * {@code pg_advisory_xact_lock(}{@value #LOCK_KEY}{@code )}: the sessions queue on that lock, the
 * first creates, and each later one sees the committed objects and skips them. The lock is
 * released with the transaction, so a crashed node cannot keep it.
 */
public final class LibrarySchema {

    /**
     * The advisory lock key every ha-cluster node takes while creating schema objects: the ASCII
     * bytes of {@code "ha-clust"} as one 64-bit number, fixed so that every version of the
     * library, on every node, serialises on the same lock.
     */
    public static final long LOCK_KEY = 0x68612d636c757374L;

    /**
     * How long a node waits for another node's schema transaction before giving up with
     * SQLState {@code 55P03}; creating a few tables takes milliseconds, so only a stuck session
     * makes this matter, and a node start should then fail rather than hang.
     */
    static final String LOCK_TIMEOUT = "30s";

    private LibrarySchema() {
    }

    /**
     * Runs {@code ddl} in one transaction under the library's schema lock. Each statement must be
     * idempotent ({@code CREATE TABLE IF NOT EXISTS}, {@code CREATE INDEX IF NOT EXISTS}, ...):
     * after the first node has committed, the others run the same statements again.
     *
     * @param connection a connection to the master with auto-commit on (no transaction of the
     *     caller's is open); auto-commit is on again when this returns, and the caller closes it
     * @throws SQLException if a statement fails; nothing of {@code ddl} is then left behind
     * @throws IllegalStateException if auto-commit is off: committing would end the caller's
     *     transaction
     */
    public static void createIfMissing(Connection connection, List<String> ddl) throws SQLException {
        if (!connection.getAutoCommit()) {
            throw new IllegalStateException("create the library's schema with auto-commit on; it runs in a "
                    + "transaction of its own");
        }
        connection.setAutoCommit(false);
        try (Statement s = connection.createStatement()) {
            s.execute("SET LOCAL lock_timeout = '" + LOCK_TIMEOUT + "'");
            s.execute("SELECT pg_advisory_xact_lock(" + LOCK_KEY + ")");
            for (String statement : ddl) {
                s.execute(statement);
            }
            connection.commit();
        } catch (SQLException | RuntimeException e) {
            try {
                connection.rollback();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }
}
