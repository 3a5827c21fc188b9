package io.hacluster.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hacluster.discovery.ConnectionSource;
import io.hacluster.identity.NodeId;
import io.hacluster.schema.LibrarySchema;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * SQL for the job table {@value #TABLE} on the master.
 *
 * <p>Every operation is one auto-commit statement, and every time in it is the database's
 * ({@code clock_timestamp()}): slots, run-after times, heartbeats and the abandonment timeout are
 * never compared with a clock of this process. Claims draw a fencing token from
 * {@value #TOKEN_SEQUENCE}, so a row's token changes with each claim and a handler whose claim was
 * taken back can tell (and have its writes refused) from the token alone.
 *
 * <p>Uniqueness lives in the database, not in the leader: {@code UNIQUE (cluster_name, type, slot)}
 * makes a periodic slot one row however many nodes think they lead, and a partial unique index on
 * active "once" jobs makes {@code submitJobOnce} safe under concurrent submitters on every node.
 */
final class JobStore {

    static final String TABLE = "ha_jobs";
    static final String TOKEN_SEQUENCE = "ha_jobs_token_seq";
    static final String VERSION_TABLE = "ha_schema_version";
    /** The job schema this library writes; a later release migrates from the stored number. */
    static final int SCHEMA_VERSION = 1;
    /** The election's lease table: slot creation is fenced by the leader's lease on it. */
    static final String LEASE_TABLE = "ha_leader_lease";
    /** Serialised {@link Job#data()} above this is refused: a job row is not a blob store. */
    static final int MAX_DATA_BYTES = 64 * 1024;

    private static final String ACTIVE = "('pending','in_progress','cancel_requested')";
    private static final String RUNNING = "('in_progress','cancel_requested')";

    static final List<String> DDL = List.of(
            "CREATE TABLE IF NOT EXISTS " + VERSION_TABLE + " (component VARCHAR(32) PRIMARY KEY, "
                    + "version INT NOT NULL)",
            "INSERT INTO " + VERSION_TABLE + " (component, version) VALUES ('jobs', " + SCHEMA_VERSION + ") "
                    + "ON CONFLICT (component) DO NOTHING",
            // not OWNED BY the table: tokens must keep growing even if the table is dropped
            "CREATE SEQUENCE IF NOT EXISTS " + TOKEN_SEQUENCE + " MINVALUE 1 NO CYCLE",
            "CREATE TABLE IF NOT EXISTS " + TABLE + " ("
                    + "id VARCHAR(26) PRIMARY KEY, "
                    + "cluster_name VARCHAR(64) NOT NULL, "
                    + "type VARCHAR(64) NOT NULL, "
                    + "priority INT NOT NULL DEFAULT 0, "
                    + "status VARCHAR(16) NOT NULL CHECK (status IN ('pending','in_progress','success','error',"
                    + "'cancel_requested','canceled')), "
                    + "create_at TIMESTAMPTZ NOT NULL, "
                    + "start_at TIMESTAMPTZ, "
                    + "last_activity_at TIMESTAMPTZ NOT NULL, "
                    + "run_after TIMESTAMPTZ NOT NULL, "
                    + "progress INT NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100), "
                    + "data JSONB NOT NULL DEFAULT '{}', "
                    + "last_error TEXT, "
                    + "attempts INT NOT NULL DEFAULT 0, "
                    + "max_attempts INT NOT NULL CHECK (max_attempts >= 1), "
                    + "worker_id VARCHAR(64), "
                    + "fencing_token BIGINT NOT NULL DEFAULT 0, "
                    + "slot TIMESTAMPTZ, "
                    + "once BOOLEAN NOT NULL DEFAULT FALSE, "
                    + "UNIQUE (cluster_name, type, slot))",
            "CREATE UNIQUE INDEX IF NOT EXISTS ha_jobs_once_active ON " + TABLE + " (cluster_name, type) "
                    + "WHERE once AND status IN " + ACTIVE,
            "CREATE INDEX IF NOT EXISTS ha_jobs_pending ON " + TABLE + " (cluster_name, type, priority DESC, run_after) "
                    + "WHERE status = 'pending'",
            "CREATE INDEX IF NOT EXISTS ha_jobs_running ON " + TABLE + " (cluster_name, last_activity_at) "
                    + "WHERE status IN " + RUNNING,
            "CREATE INDEX IF NOT EXISTS ha_jobs_by_type ON " + TABLE + " (cluster_name, type, create_at)");

    private static final String COLUMNS = columns("");

    /** The columns {@link #job} reads, in its order, each prefixed with {@code alias}. */
    private static String columns(String alias) {
        return String.join(", ", java.util.Arrays.stream(new String[] {"id", "type", "priority", "status", "create_at",
                "start_at", "last_activity_at", "run_after", "progress", "data", "last_error", "attempts",
                "max_attempts", "worker_id", "fencing_token", "slot"})
                .map(c -> alias + c + (c.equals("data") ? "::text" : "")).toList());
    }

    /** Parameters: id, cluster, type, maxAttempts, slot, cluster, node, lease token. */
    static final String INSERT_SLOT = "INSERT INTO " + TABLE + " (id, cluster_name, type, status, create_at, "
            + "last_activity_at, run_after, max_attempts, slot) "
            + "SELECT ?, ?, ?, 'pending', clock_timestamp(), clock_timestamp(), s.slot, ?, s.slot "
            + "FROM (SELECT ?::timestamptz AS slot) s "
            + "WHERE EXISTS (SELECT 1 FROM " + LEASE_TABLE + " l WHERE l.cluster_name = ? AND l.holder_id = ? "
            + "AND l.fencing_token = ? AND l.expires_at > clock_timestamp()) "
            + "ON CONFLICT (cluster_name, type, slot) DO NOTHING";

    /** Parameters: cluster, type. The latest slot and the database's time. */
    static final String LAST_SLOT = "SELECT (SELECT max(slot) FROM " + TABLE + " WHERE cluster_name = ? AND type = ?), "
            + "clock_timestamp()";

    /** Parameters: id, cluster, type, priority, data, maxAttempts, once. */
    static final String INSERT = "INSERT INTO " + TABLE + " (id, cluster_name, type, priority, status, create_at, "
            + "last_activity_at, run_after, data, max_attempts, once) "
            + "VALUES (?, ?, ?, ?, 'pending', clock_timestamp(), clock_timestamp(), clock_timestamp(), ?::jsonb, ?, ?) "
            + "RETURNING " + COLUMNS;

    /**
     * Parameters: id, cluster, type, priority, data, maxAttempts, cluster, type. Refuses (no row)
     * while any job of the type is active; the partial unique index settles two such inserts
     * racing each other.
     */
    static final String INSERT_ONCE = "INSERT INTO " + TABLE + " (id, cluster_name, type, priority, status, create_at, "
            + "last_activity_at, run_after, data, max_attempts, once) "
            + "SELECT ?, ?, ?, ?, 'pending', clock_timestamp(), clock_timestamp(), clock_timestamp(), ?::jsonb, ?, TRUE "
            + "WHERE NOT EXISTS (SELECT 1 FROM " + TABLE + " WHERE cluster_name = ? AND type = ? AND status IN " + ACTIVE + ") "
            + "ON CONFLICT DO NOTHING RETURNING " + COLUMNS;

    /**
     * Parameters: worker, cluster, type, limit. SKIP LOCKED: concurrent claimers on every node
     * take different rows instead of queueing on the same one.
     */
    static final String CLAIM = "UPDATE " + TABLE + " j SET status = 'in_progress', worker_id = ?, "
            + "start_at = clock_timestamp(), last_activity_at = clock_timestamp(), attempts = j.attempts + 1, "
            + "fencing_token = nextval('" + TOKEN_SEQUENCE + "') "
            + "FROM (SELECT id FROM " + TABLE + " WHERE cluster_name = ? AND type = ? AND status = 'pending' "
            + "AND run_after <= clock_timestamp() ORDER BY priority DESC, run_after, create_at LIMIT ? "
            + "FOR UPDATE SKIP LOCKED) c WHERE j.id = c.id RETURNING "
            + columns("j.");

    /** Parameters: cluster, worker, ids. Rows not returned are no longer this worker's. */
    static final String HEARTBEAT = "UPDATE " + TABLE + " SET last_activity_at = clock_timestamp() "
            + "WHERE cluster_name = ? AND worker_id = ? AND id = ANY (?) AND status IN " + RUNNING
            + " RETURNING id, fencing_token, status";

    /** Parameters: progress, id, token. */
    static final String PROGRESS = "UPDATE " + TABLE + " SET progress = ?, last_activity_at = clock_timestamp() "
            + "WHERE id = ? AND fencing_token = ? AND status IN " + RUNNING;

    /** Parameters: data, id, token. */
    static final String DATA = "UPDATE " + TABLE + " SET data = ?::jsonb, last_activity_at = clock_timestamp() "
            + "WHERE id = ? AND fencing_token = ? AND status IN " + RUNNING;

    /** Parameters: status, progress-if-success, id, token. */
    static final String FINISH = "UPDATE " + TABLE + " SET status = ?, progress = CASE WHEN ? THEN 100 ELSE progress END, "
            + "last_activity_at = clock_timestamp() "
            + "WHERE id = ? AND fencing_token = ? AND status IN " + RUNNING + " RETURNING status";

    /** Backoff of a retry, in SQL: base * 2^(attempts-1), at most max. Parameters: base, max. */
    private static final String BACKOFF = "LEAST(?::bigint, ?::bigint * power(2, GREATEST(attempts - 1, 0))::bigint) "
            + "* interval '1 millisecond'";

    /** Parameters: error, max, base, id, token. */
    static final String FAIL = "UPDATE " + TABLE + " SET "
            + "status = CASE WHEN status = 'cancel_requested' THEN 'canceled' WHEN attempts >= max_attempts THEN 'error' "
            + "ELSE 'pending' END, last_error = ?, last_activity_at = clock_timestamp(), "
            + "run_after = clock_timestamp() + " + BACKOFF + " "
            + "WHERE id = ? AND fencing_token = ? AND status IN " + RUNNING + " RETURNING status";

    /**
     * Parameters: max, base, cluster, timeout millis. Running rows without a heartbeat for the
     * timeout go back to pending (or to error on their last attempt, or to canceled when a
     * cancel was asked for), with the abandoning worker named in last_error.
     */
    static final String REAP = "UPDATE " + TABLE + " SET "
            + "status = CASE WHEN status = 'cancel_requested' THEN 'canceled' WHEN attempts >= max_attempts THEN 'error' "
            + "ELSE 'pending' END, "
            + "last_error = 'worker ' || coalesce(worker_id, '?') || ' stopped heartbeating', "
            + "last_activity_at = clock_timestamp(), run_after = clock_timestamp() + " + BACKOFF + " "
            + "WHERE cluster_name = ? AND status IN " + RUNNING
            + " AND last_activity_at < clock_timestamp() - ?::bigint * interval '1 millisecond' RETURNING " + COLUMNS;

    /**
     * Parameters: worker, id, token, worker. A stopping worker gives an unfinished job back at
     * once; the attempt is not counted against the job.
     */
    static final String HAND_BACK = "UPDATE " + TABLE + " SET "
            + "status = CASE WHEN status = 'cancel_requested' THEN 'canceled' ELSE 'pending' END, "
            + "attempts = GREATEST(attempts - 1, 0), "
            + "last_error = 'worker ' || ? || ' stopped before the job finished', "
            + "last_activity_at = clock_timestamp(), run_after = clock_timestamp() "
            + "WHERE id = ? AND fencing_token = ? AND worker_id = ? AND status IN " + RUNNING;

    /** Parameters: cluster, id. */
    static final String CANCEL = "UPDATE " + TABLE + " SET "
            + "status = CASE WHEN status = 'pending' THEN 'canceled' ELSE 'cancel_requested' END, "
            + "last_activity_at = clock_timestamp() "
            + "WHERE cluster_name = ? AND id = ? AND status IN ('pending','in_progress') RETURNING status";

    /** Parameters: id, token. Locks the row until the caller's transaction ends. */
    static final String HOLDS_CLAIM = "SELECT 1 FROM " + TABLE + " WHERE id = ? AND fencing_token = ? "
            + "AND status IN " + RUNNING + " FOR SHARE";

    /** Parameters: cluster, days. Finished jobs older than the threshold. */
    static final String CLEANUP = "DELETE FROM " + TABLE + " WHERE cluster_name = ? "
            + "AND status IN ('success','error','canceled') "
            + "AND last_activity_at < clock_timestamp() - ?::int * interval '1 day'";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<LinkedHashMap<String, String>> STRING_MAP = new TypeReference<>() {
    };

    private final ConnectionSource connections;
    private final String cluster;
    private final int queryTimeoutSeconds;

    JobStore(ConnectionSource connections, String cluster, Duration statementTimeout) {
        this.connections = Objects.requireNonNull(connections, "connections");
        this.cluster = Objects.requireNonNull(cluster, "cluster");
        long millis = statementTimeout.toMillis();
        if (millis <= 0) {
            throw new IllegalArgumentException("statementTimeout must be positive, got " + statementTimeout);
        }
        this.queryTimeoutSeconds = (int) Math.min(Integer.MAX_VALUE, Math.max(1, (millis + 999) / 1000));
    }

    /**
     * Creates the job objects when missing, under the library's schema lock, and refuses a
     * database whose job schema is newer than this library's (a downgrade would corrupt it).
     */
    void createSchemaIfMissing() throws SQLException {
        try (Connection c = connections.open()) {
            LibrarySchema.createIfMissing(c, DDL);
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT version FROM " + VERSION_TABLE + " WHERE component = 'jobs'")) {
                int stored = rs.next() ? rs.getInt(1) : SCHEMA_VERSION;
                if (stored > SCHEMA_VERSION) {
                    throw new SQLException("the job tables are at schema version " + stored + ", this library knows "
                            + SCHEMA_VERSION + "; run the newer library or restore the older schema", "55000");
                }
            }
        }
    }

    /** The latest slot of {@code type} (empty when none) and the database's time. */
    record LastSlot(Optional<Instant> slot, Instant now) {
    }

    LastSlot lastSlot(String type) throws SQLException {
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, LAST_SLOT)) {
            ps.setString(1, cluster);
            ps.setString(2, type);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new LastSlot(Optional.ofNullable(instant(rs, 1)), instant(rs, 2));
            }
        }
    }

    /**
     * Creates the row of one periodic slot, if {@code node} holds the lease with {@code leaseToken}
     * unexpired (database time) and the slot has no row yet. Returns whether a row was created.
     */
    boolean insertSlot(String type, Instant slot, int maxAttempts, String node, long leaseToken) throws SQLException {
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, INSERT_SLOT)) {
            ps.setString(1, NodeId.generate());
            ps.setString(2, cluster);
            ps.setString(3, type);
            ps.setInt(4, maxAttempts);
            ps.setObject(5, OffsetDateTime.ofInstant(slot, ZoneOffset.UTC));
            ps.setString(6, cluster);
            ps.setString(7, node);
            ps.setLong(8, leaseToken);
            return ps.executeUpdate() == 1;
        }
    }

    Job insert(String type, int priority, Map<String, String> data, int maxAttempts) throws SQLException {
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, INSERT)) {
            ps.setString(1, NodeId.generate());
            ps.setString(2, cluster);
            ps.setString(3, type);
            ps.setInt(4, priority);
            ps.setString(5, json(data));
            ps.setInt(6, maxAttempts);
            ps.setBoolean(7, false);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return job(rs);
            }
        }
    }

    /** Empty when a job of {@code type} is pending or running. */
    Optional<Job> insertOnce(String type, int priority, Map<String, String> data, int maxAttempts) throws SQLException {
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, INSERT_ONCE)) {
            ps.setString(1, NodeId.generate());
            ps.setString(2, cluster);
            ps.setString(3, type);
            ps.setInt(4, priority);
            ps.setString(5, json(data));
            ps.setInt(6, maxAttempts);
            ps.setString(7, cluster);
            ps.setString(8, type);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(job(rs)) : Optional.empty();
            }
        }
    }

    /** Claims up to {@code limit} due pending jobs of {@code type} for {@code worker}. */
    List<Job> claim(String type, String worker, int limit) throws SQLException {
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, CLAIM)) {
            ps.setString(1, worker);
            ps.setString(2, cluster);
            ps.setString(3, type);
            ps.setInt(4, limit);
            return jobs(ps);
        }
    }

    /** A row a heartbeat found still claimed by the worker. */
    record Beat(long fencingToken, JobStatus status) {
    }

    /** Heartbeats the worker's running jobs; the map has only the rows that are still the worker's. */
    Map<String, Beat> heartbeat(String worker, Collection<String> ids) throws SQLException {
        Map<String, Beat> out = new LinkedHashMap<>();
        if (ids.isEmpty()) {
            return out;
        }
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, HEARTBEAT)) {
            Array array = c.createArrayOf("varchar", ids.toArray());
            ps.setString(1, cluster);
            ps.setString(2, worker);
            ps.setArray(3, array);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), new Beat(rs.getLong(2), JobStatus.fromDb(rs.getString(3))));
                }
            }
        }
        return out;
    }

    boolean progress(String id, long token, int progress) throws SQLException {
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, PROGRESS)) {
            ps.setInt(1, progress);
            ps.setString(2, id);
            ps.setLong(3, token);
            return ps.executeUpdate() == 1;
        }
    }

    boolean data(String id, long token, Map<String, String> data) throws SQLException {
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, DATA)) {
            ps.setString(1, json(data));
            ps.setString(2, id);
            ps.setLong(3, token);
            return ps.executeUpdate() == 1;
        }
    }

    /** Ends the claim in {@code status} (success or canceled); empty if the claim was no longer held. */
    Optional<JobStatus> finish(String id, long token, JobStatus status) throws SQLException {
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, FINISH)) {
            ps.setString(1, status.dbName());
            ps.setBoolean(2, status == JobStatus.SUCCESS);
            ps.setString(3, id);
            ps.setLong(4, token);
            return single(ps);
        }
    }

    /** Ends the attempt in error: pending again after a backoff, or error on the last attempt. */
    Optional<JobStatus> fail(String id, long token, String error, Duration backoffBase, Duration backoffMax)
            throws SQLException {
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, FAIL)) {
            ps.setString(1, error);
            ps.setLong(2, backoffMax.toMillis());
            ps.setLong(3, backoffBase.toMillis());
            ps.setString(4, id);
            ps.setLong(5, token);
            return single(ps);
        }
    }

    /** Running jobs without a heartbeat for {@code timeout}, now pending again (or ended). */
    List<Job> reapAbandoned(Duration timeout, Duration backoffBase, Duration backoffMax) throws SQLException {
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, REAP)) {
            ps.setLong(1, backoffMax.toMillis());
            ps.setLong(2, backoffBase.toMillis());
            ps.setString(3, cluster);
            ps.setLong(4, timeout.toMillis());
            return jobs(ps);
        }
    }

    /** Returns whether the job was still this worker's claim and is pending (or canceled) now. */
    boolean handBack(String id, long token, String worker) throws SQLException {
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, HAND_BACK)) {
            ps.setString(1, worker);
            ps.setString(2, id);
            ps.setLong(3, token);
            ps.setString(4, worker);
            return ps.executeUpdate() == 1;
        }
    }

    /** Pending: canceled at once; running: cancel requested. Empty if the job was not active. */
    Optional<JobStatus> cancel(String id) throws SQLException {
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, CANCEL)) {
            ps.setString(1, cluster);
            ps.setString(2, id);
            return single(ps);
        }
    }

    Optional<Job> find(String id) throws SQLException {
        try (Connection c = connections.open();
             PreparedStatement ps = prepare(c, "SELECT " + COLUMNS + " FROM " + TABLE + " WHERE cluster_name = ? AND id = ?")) {
            ps.setString(1, cluster);
            ps.setString(2, id);
            List<Job> found = jobs(ps);
            return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
        }
    }

    /** Newest first; {@code type} null for every type, {@code statuses} empty for every status. */
    List<Job> query(String type, Set<JobStatus> statuses, int limit) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT ").append(COLUMNS).append(" FROM ").append(TABLE)
                .append(" WHERE cluster_name = ?");
        if (type != null) {
            sql.append(" AND type = ?");
        }
        if (!statuses.isEmpty()) {
            sql.append(" AND status = ANY (?)");
        }
        sql.append(" ORDER BY create_at DESC, id LIMIT ?");
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, sql.toString())) {
            int i = 1;
            ps.setString(i++, cluster);
            if (type != null) {
                ps.setString(i++, type);
            }
            if (!statuses.isEmpty()) {
                ps.setArray(i++, c.createArrayOf("varchar", statuses.stream().map(JobStatus::dbName).toArray()));
            }
            ps.setInt(i, limit);
            return jobs(ps);
        }
    }

    /** Deletes finished jobs older than {@code days}; returns how many. */
    int cleanup(int days) throws SQLException {
        try (Connection c = connections.open(); PreparedStatement ps = prepare(c, CLEANUP)) {
            ps.setString(1, cluster);
            ps.setInt(2, days);
            return ps.executeUpdate();
        }
    }

    /** Inside the caller's transaction: whether the claim still holds; locks the row until it ends. */
    static boolean holdsClaim(Connection c, String id, long token) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(HOLDS_CLAIM)) {
            ps.setString(1, id);
            ps.setLong(2, token);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    static String json(Map<String, String> data) {
        String text;
        try {
            text = JSON.writeValueAsString(data);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("job data cannot be written as JSON: " + e.getOriginalMessage(), e);
        }
        if (text.length() > MAX_DATA_BYTES) {  // chars; a byte bound would only be stricter for non-ASCII
            throw new IllegalArgumentException("job data is " + text.length() + " characters as JSON; at most "
                    + MAX_DATA_BYTES + " are stored");
        }
        return text;
    }

    private PreparedStatement prepare(Connection c, String sql) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        ps.setQueryTimeout(queryTimeoutSeconds);
        return ps;
    }

    private static Optional<JobStatus> single(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(JobStatus.fromDb(rs.getString(1))) : Optional.empty();
        }
    }

    private static List<Job> jobs(PreparedStatement ps) throws SQLException {
        List<Job> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(job(rs));
            }
        }
        return out;
    }

    private static Job job(ResultSet rs) throws SQLException {
        Map<String, String> data;
        try {
            data = JSON.readValue(rs.getString(10), STRING_MAP);
        } catch (JsonProcessingException e) {
            throw new SQLException("job " + rs.getString(1) + " has data that is not a string map", "22023", e);
        }
        return new Job(rs.getString(1), rs.getString(2), rs.getInt(3), JobStatus.fromDb(rs.getString(4)),
                instant(rs, 5), Optional.ofNullable(instant(rs, 6)), instant(rs, 7), instant(rs, 8), rs.getInt(9),
                data, Optional.ofNullable(rs.getString(11)), rs.getInt(12), rs.getInt(13),
                Optional.ofNullable(rs.getString(14)), rs.getLong(15), Optional.ofNullable(instant(rs, 16)));
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
