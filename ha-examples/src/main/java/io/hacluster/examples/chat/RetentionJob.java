package io.hacluster.examples.chat;

import io.hacluster.db.DatabaseRouter;
import io.hacluster.jobs.JobContext;
import io.hacluster.jobs.JobHandler;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mattermost's data retention as a periodic job of the job server: the leader schedules one run
 * per slot, one worker somewhere runs it. The delete and the record of the run commit only while
 * the worker's claim holds ({@link JobContext#holdsClaim}, the fencing token's check): a worker
 * that stalled and lost its claim to another rolls back instead of writing a second time.
 */
final class RetentionJob implements JobHandler {

    /** The job type, as Mattermost's {@code data_retention}. */
    static final String TYPE = "chat_data_retention";
    /** Rows per run: a big backlog is worked off over several runs, never in one huge transaction. */
    static final int MAX_DELETE = 10_000;

    private static final Logger LOG = LoggerFactory.getLogger(RetentionJob.class);

    private final DatabaseRouter router;
    private final String nodeId;
    private final boolean delete;
    private final Duration retention;

    RetentionJob(DatabaseRouter router, String nodeId, boolean delete, Duration retention) {
        this.router = router;
        this.nodeId = nodeId;
        this.delete = delete;
        this.retention = retention;
    }

    @Override
    public void run(JobContext context) throws SQLException {
        long cutoff = System.currentTimeMillis() - retention.toMillis();
        try (Connection c = router.master()) {
            c.setAutoCommit(false);
            try {
                int deleted = 0;
                if (delete) {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM chat_posts WHERE id IN"
                            + " (SELECT id FROM chat_posts WHERE create_at < ? ORDER BY id LIMIT ?)")) {
                        ps.setLong(1, cutoff);
                        ps.setInt(2, MAX_DELETE);
                        deleted = ps.executeUpdate();
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO chat_retention_runs"
                        + " (job_id, node_id, fencing_token, deleted, ran_at) VALUES (?, ?, ?, ?, ?)"
                        + " ON CONFLICT (job_id) DO NOTHING")) {
                    ps.setString(1, context.job().id());
                    ps.setString(2, nodeId);
                    ps.setLong(3, context.fencingToken());
                    ps.setInt(4, deleted);
                    ps.setLong(5, System.currentTimeMillis());
                    ps.executeUpdate();
                }
                // Last, just before the commit: the check locks the job row until the commit.
                if (!context.holdsClaim(c)) {
                    c.rollback();
                    LOG.info("retention run {} lost its claim (token {}); rolled back", context.job().id(),
                            context.fencingToken());
                    return;
                }
                c.commit();
                LOG.debug("retention run {} (token {}) deleted {} posts older than {}", context.job().id(),
                        context.fencingToken(), deleted, retention);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }
}
