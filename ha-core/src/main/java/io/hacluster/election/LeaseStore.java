package io.hacluster.election;

import io.hacluster.discovery.ConnectionSource;
import io.hacluster.schema.LibrarySchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * SQL for the leader lease: one row per cluster in {@value #TABLE} on the master, fencing tokens
 * from the sequence {@value #SEQUENCE}.
 *
 * <p>Every operation is one statement in its own auto-commit transaction, and every decision
 * about expiry is taken by the database against {@code clock_timestamp()}, read once per
 * statement; no clock of this process is ever sent to or compared with the database. The
 * statements hold no session state (no session advisory lock, no temporary table, no
 * {@code SET}): each may run on a different backend, as behind a transaction-mode pooler or a
 * pool that recycles connections, and a backend that dies takes nothing of the lease with it.
 * Concurrent operations on one cluster serialise on the row lock of its row; each one decides
 * against the latest committed version of the row.
 *
 * <p>Tokens come from a sequence that is not owned by the table, so deleting the row, or even
 * dropping the table, does not reset them: every token is greater than every token drawn before
 * (not dense: each acquire draws a value it may not use, see {@link #ACQUIRE}). Dropping or
 * restarting the sequence by hand would break that; nothing here does.
 *
 * <p>Errors are the driver's {@link SQLException}s, with its SQLState; they carry no connection
 * string. Each statement is bounded by a query timeout: the driver asks the server to cancel it
 * (SQLState {@code 57014}) once the timeout has passed, so a statement queued behind a stuck row
 * lock fails instead of hanging the election.
 */
final class LeaseStore {

    static final String TABLE = "ha_leader_lease";
    static final String SEQUENCE = "ha_leader_lease_token_seq";

    /** The statement timeout when none is given: well inside the default renew deadline of 10 s. */
    static final Duration DEFAULT_STATEMENT_TIMEOUT = Duration.ofSeconds(5);

    // Not OWNED BY the table: DROP TABLE must not take the sequence, and with it the guarantee
    // that tokens never repeat.
    static final String CREATE_SEQUENCE = "CREATE SEQUENCE IF NOT EXISTS " + SEQUENCE + " MINVALUE 1 NO CYCLE";

    static final String CREATE_TABLE = "CREATE TABLE IF NOT EXISTS " + TABLE + " ("
            + "cluster_name VARCHAR(64) PRIMARY KEY, "
            + "holder_id VARCHAR(64), "
            + "epoch BIGINT NOT NULL CHECK (epoch >= 0), "
            + "fencing_token BIGINT NOT NULL CHECK (fencing_token > 0), "
            + "acquired_at TIMESTAMPTZ NOT NULL, "
            + "renewed_at TIMESTAMPTZ NOT NULL, "
            + "expires_at TIMESTAMPTZ NOT NULL)";

    /** Milliseconds from the database's clock, now, to {@code expiresAt}; 0 once past. */
    private static String remainingMillis(String expiresAt, String now) {
        return "GREATEST(0, floor(extract(epoch FROM (" + expiresAt + " - " + now + ")) * 1000))::bigint";
    }

    /**
     * The database's time, read once: {@code clock_timestamp()} changes during a statement, and
     * every comparison and every stored timestamp of one decision must use the same instant. A
     * CTE with a volatile function is evaluated once, never inlined.
     */
    private static final String NOW = "WITH n AS (SELECT clock_timestamp() AS t) ";

    /** Free: never held, released, or expired at the statement's instant (EXCLUDED.renewed_at). */
    private static final String FREE = "(l.holder_id IS NULL OR l.expires_at <= EXCLUDED.renewed_at)";
    /** This node holds it unexpired (when not FREE): the acquire is a renewal. */
    private static final String FREE_OR_MINE = "(" + FREE + " OR l.holder_id = EXCLUDED.holder_id)";

    /**
     * Parameters: cluster, node, epoch, lease millis.
     *
     * <p>A missing row is inserted with a new token. An existing row is locked and then judged
     * in its latest committed version: FREE takes it with a token drawn from the sequence only
     * now, under the row lock, so it is greater than the token of every holding committed before;
     * a renewal by the holder keeps its token; otherwise nothing but the epoch changes, and the
     * row comes back anyway so the caller learns who holds it, in the same statement.
     *
     * <p>The insert's token is computed before PostgreSQL learns whether the row exists, so every
     * acquire draws one value it may not use (it cannot be a placeholder: CHECK and NOT NULL are
     * checked on the proposed row before the conflict is). Tokens therefore have gaps; they still
     * only grow. The insert's early draw matters only if the row is deleted by hand while an
     * acquire is under way: a concurrent acquire could then draw a later token, commit it, see it
     * deleted, and this insert store the earlier one. Do not delete lease rows of a running
     * cluster.
     */
    static final String ACQUIRE = NOW
            + "INSERT INTO " + TABLE + " AS l "
            + "(cluster_name, holder_id, epoch, fencing_token, acquired_at, renewed_at, expires_at) "
            + "SELECT ?, ?, ?, "
            + "nextval('" + SEQUENCE + "'), "
            + "n.t, n.t, n.t + ?::bigint * interval '1 millisecond' FROM n "
            + "ON CONFLICT (cluster_name) DO UPDATE SET "
            + "holder_id = CASE WHEN " + FREE_OR_MINE + " THEN EXCLUDED.holder_id ELSE l.holder_id END, "
            + "epoch = GREATEST(l.epoch, EXCLUDED.epoch), "
            + "fencing_token = CASE WHEN " + FREE + " THEN nextval('" + SEQUENCE + "') ELSE l.fencing_token END, "
            + "acquired_at = CASE WHEN " + FREE + " THEN EXCLUDED.acquired_at ELSE l.acquired_at END, "
            + "renewed_at = CASE WHEN " + FREE_OR_MINE + " THEN EXCLUDED.renewed_at ELSE l.renewed_at END, "
            + "expires_at = CASE WHEN " + FREE_OR_MINE + " THEN EXCLUDED.expires_at ELSE l.expires_at END "
            + "RETURNING l.holder_id, l.epoch, l.fencing_token, l.acquired_at, l.expires_at, "
            + remainingMillis("l.expires_at", "clock_timestamp()");

    /** Parameters: lease millis, cluster, node, token. Only the holder, with its token, unexpired. */
    static final String RENEW = NOW
            + "UPDATE " + TABLE + " AS l SET renewed_at = n.t, expires_at = n.t + ?::bigint * interval '1 millisecond' "
            + "FROM n WHERE l.cluster_name = ? AND l.holder_id = ? AND l.fencing_token = ? AND l.expires_at > n.t "
            + "RETURNING l.expires_at, " + remainingMillis("l.expires_at", "clock_timestamp()");

    /**
     * Parameters: cluster, node, token. Keeps the token (fenced writes compare with it) and the
     * epoch; the expiry moves to now so the row reads as expired.
     */
    static final String RELEASE = "UPDATE " + TABLE + " SET holder_id = NULL, "
            + "expires_at = LEAST(expires_at, clock_timestamp()) "
            + "WHERE cluster_name = ? AND holder_id = ? AND fencing_token = ?";

    /** Parameter: cluster. */
    static final String READ = NOW
            + "SELECT l.holder_id, l.epoch, l.fencing_token, l.acquired_at, l.renewed_at, l.expires_at, "
            + remainingMillis("l.expires_at", "n.t") + ", "
            + "(l.holder_id IS NOT NULL AND l.expires_at > n.t) "
            + "FROM " + TABLE + " AS l, n WHERE l.cluster_name = ?";

    /** Parameter: cluster. */
    static final String HIGHEST_EPOCH = "SELECT COALESCE(MAX(epoch), 0) FROM " + TABLE + " WHERE cluster_name = ?";

    private final ConnectionSource connections;
    private final int queryTimeoutSeconds;

    /**
     * @param connections master connections with auto-commit on (ClusterNode passes the router's
     *     {@code master()}); one is opened and closed per operation
     * @param statementTimeout bound of each statement; JDBC counts it in whole seconds, so it is
     *     rounded up to at least 1 s
     */
    LeaseStore(ConnectionSource connections, Duration statementTimeout) {
        this.connections = Objects.requireNonNull(connections, "connections");
        if (statementTimeout.isNegative() || statementTimeout.isZero()) {
            throw new IllegalArgumentException("statementTimeout must be positive, got " + statementTimeout);
        }
        long millis = statementTimeout.toMillis();
        this.queryTimeoutSeconds = (int) Math.min(Integer.MAX_VALUE, Math.max(1, (millis + 999) / 1000));
    }

    /** With {@link #DEFAULT_STATEMENT_TIMEOUT}. */
    LeaseStore(ConnectionSource connections) {
        this(connections, DEFAULT_STATEMENT_TIMEOUT);
    }

    /**
     * Creates the sequence and the table when missing, under the library's schema lock: nodes
     * started together against a fresh database would otherwise race in {@code CREATE ... IF NOT
     * EXISTS}, which PostgreSQL does not make atomic.
     */
    void createSchemaIfMissing() throws SQLException {
        try (Connection c = connections.open()) {
            LibrarySchema.createIfMissing(c, List.of(CREATE_SEQUENCE, CREATE_TABLE));
        }
    }

    /**
     * Takes the lease of {@code cluster} for {@code nodeId} if nobody holds it, it was released,
     * or it expired in database time, with a new fencing token; renews it, keeping the token, if
     * {@code nodeId} already holds it unexpired. Either way the stored epoch becomes at least
     * {@code epoch}, even when another node holds the lease: the row keeps the highest epoch any
     * node presented, which a restarting node continues above ({@link #highestEpoch}).
     */
    AcquireOutcome acquire(String cluster, String nodeId, long epoch, Duration leaseDuration) throws SQLException {
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(nodeId, "nodeId");
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must not be negative, got " + epoch);
        }
        long leaseMillis = positiveMillis(leaseDuration);
        try (Connection c = open(); PreparedStatement ps = prepare(c, ACQUIRE)) {
            ps.setString(1, cluster);
            ps.setString(2, nodeId);
            ps.setLong(3, epoch);
            ps.setLong(4, leaseMillis);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    // INSERT ... ON CONFLICT DO UPDATE without a WHERE returns its row in every case.
                    throw new SQLException("the lease acquire for cluster " + cluster + " returned no row");
                }
                String holder = rs.getString(1);
                long storedEpoch = rs.getLong(2);
                long token = rs.getLong(3);
                long remaining = rs.getLong(6);
                if (nodeId.equals(holder)) {
                    return new AcquireOutcome.Granted(new LeaseGrant(holder, storedEpoch, token, instant(rs, 4),
                            instant(rs, 5), remaining));
                }
                return new AcquireOutcome.HeldByOther(holder, storedEpoch, token, remaining);
            }
        }
    }

    /**
     * Extends the lease by {@code leaseDuration} from now (database time) if {@code nodeId} holds
     * it with {@code token} and it has not expired; otherwise {@link RenewOutcome.Lost}.
     */
    RenewOutcome renew(String cluster, String nodeId, long token, Duration leaseDuration) throws SQLException {
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(nodeId, "nodeId");
        long leaseMillis = positiveMillis(leaseDuration);
        try (Connection c = open(); PreparedStatement ps = prepare(c, RENEW)) {
            ps.setLong(1, leaseMillis);
            ps.setString(2, cluster);
            ps.setString(3, nodeId);
            ps.setLong(4, token);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new RenewOutcome.Lost();
                }
                return new RenewOutcome.Renewed(instant(rs, 1), rs.getLong(2));
            }
        }
    }

    /**
     * Gives the lease up at once, so another node can acquire it without waiting for the expiry.
     * Returns false when {@code nodeId} did not hold it with {@code token} (nothing changes then).
     */
    boolean release(String cluster, String nodeId, long token) throws SQLException {
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(nodeId, "nodeId");
        try (Connection c = open(); PreparedStatement ps = prepare(c, RELEASE)) {
            ps.setString(1, cluster);
            ps.setString(2, nodeId);
            ps.setLong(3, token);
            return ps.executeUpdate() > 0;
        }
    }

    /** The lease row of {@code cluster}, empty when there is none. */
    Optional<LeaseRow> read(String cluster) throws SQLException {
        Objects.requireNonNull(cluster, "cluster");
        try (Connection c = open(); PreparedStatement ps = prepare(c, READ)) {
            ps.setString(1, cluster);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new LeaseRow(cluster, Optional.ofNullable(rs.getString(1)), rs.getLong(2),
                        rs.getLong(3), instant(rs, 4), instant(rs, 5), instant(rs, 6), rs.getLong(7),
                        rs.getBoolean(8)));
            }
        }
    }

    /**
     * The highest epoch stored for {@code cluster}, 0 when there is no row: a restarting node
     * starts its elections above it, so its epochs keep growing across restarts.
     */
    long highestEpoch(String cluster) throws SQLException {
        Objects.requireNonNull(cluster, "cluster");
        try (Connection c = open(); PreparedStatement ps = prepare(c, HIGHEST_EPOCH)) {
            ps.setString(1, cluster);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * A connection that is not inside a transaction: the statement must commit on its own, and
     * running it inside someone's open transaction would hold the lease's row lock (and its
     * decision) hostage to that transaction.
     */
    private Connection open() throws SQLException {
        Connection c = connections.open();
        try {
            if (!c.getAutoCommit()) {
                throw new IllegalStateException("the lease needs connections with auto-commit on: each operation "
                        + "is one statement committed on its own");
            }
            return c;
        } catch (SQLException | RuntimeException e) {
            try {
                c.close();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private PreparedStatement prepare(Connection c, String sql) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        try {
            // A statement-level bound: no SET statement_timeout, which would stay on a pooled session.
            ps.setQueryTimeout(queryTimeoutSeconds);
            return ps;
        } catch (SQLException | RuntimeException e) {
            ps.close();
            throw e;
        }
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    private static long positiveMillis(Duration leaseDuration) {
        long millis = leaseDuration.toMillis();
        if (millis <= 0) {
            throw new IllegalArgumentException("leaseDuration must be at least 1 ms, got " + leaseDuration);
        }
        return millis;
    }
}
