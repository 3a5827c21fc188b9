package io.hacluster.testkit;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * The replication operations of a topology, in SQL, shared by every implementation: they only
 * need superuser connections to the servers.
 */
final class ReplicationSql {

    private static final long REPLAY_POLL_MILLIS = 10;

    private ReplicationSql() {}

    /** {@code pg_promote(wait => true)}: returns once the standby has left recovery. */
    static void promote(PostgresServer standby) {
        try (Connection connection = standby.connectAsSuperuser();
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SELECT pg_promote(true, 60)")) {
            if (!result.next() || !result.getBoolean(1)) {
                throw new PostgresTestkitException(standby.name() + " did not finish promotion within 60 s");
            }
        } catch (SQLException e) {
            throw new PostgresTestkitException("Cannot promote " + standby.name() + ": " + e, e);
        }
    }

    static void pauseReplay(PostgresServer standby) {
        // The request takes effect before the next WAL record: nothing more is replayed after this.
        execute(standby, "SELECT pg_wal_replay_pause()", "pause replay on");
    }

    static void resumeReplay(PostgresServer standby) {
        execute(standby, "SELECT pg_wal_replay_resume()", "resume replay on");
    }

    static void createSlot(PostgresServer primary, String slot) {
        // Reserved now, so WAL written from here on stays until that standby has it.
        execute(primary, "SELECT pg_create_physical_replication_slot('" + slot + "', true)",
                "create replication slot " + slot + " on");
    }

    /**
     * Re-points a standby at another upstream: a slot there, then {@code primary_conninfo} and
     * {@code primary_slot_name} through ALTER SYSTEM (kept across restarts) and a reload, which
     * restarts the WAL receiver (PostgreSQL 13+). Waits until the standby streams from the new
     * upstream; with {@code recovery_target_timeline = latest} it follows the new timeline.
     */
    static void follow(PostgresServer standby, PostgresServer upstream, String conninfo, String slot,
            String upstreamHost, int upstreamPort, Duration timeout) {
        execute(upstream, "SELECT pg_create_physical_replication_slot('" + slot + "', true) WHERE NOT EXISTS "
                + "(SELECT 1 FROM pg_replication_slots WHERE slot_name = '" + slot + "')",
                "create replication slot " + slot + " on");
        try (Connection connection = standby.connectAsSuperuser(); Statement statement = connection.createStatement()) {
            statement.execute("ALTER SYSTEM SET primary_conninfo = '" + conninfo + "'");
            statement.execute("ALTER SYSTEM SET primary_slot_name = '" + slot + "'");
            statement.execute("SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw new PostgresTestkitException("Cannot re-point " + standby.name() + " at " + upstream.name() + ": "
                    + e.getMessage().replace(conninfo, "(conninfo)"), e);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Connection connection = standby.connectAsSuperuser();
                Statement statement = connection.createStatement()) {
            String last = "no WAL receiver";
            while (true) {
                try (ResultSet result = statement.executeQuery(
                        "SELECT status, sender_host, sender_port FROM pg_stat_wal_receiver")) {
                    if (result.next()) {
                        if ("streaming".equals(result.getString(1)) && upstreamHost.equals(result.getString(2))
                                && result.getInt(3) == upstreamPort) {
                            return;
                        }
                        last = result.getString(1) + " from " + result.getString(2) + ":" + result.getInt(3);
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new PostgresTestkitException(standby.name() + " did not stream from " + upstream.name()
                            + " within " + timeout + " (WAL receiver: " + last + "). A standby that replayed WAL the new "
                            + "upstream never had cannot follow it; promote the most advanced standby");
                }
                Thread.sleep(REPLAY_POLL_MILLIS * 5);
            }
        } catch (SQLException e) {
            throw new PostgresTestkitException("Cannot read the WAL receiver of " + standby.name() + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PostgresTestkitException("Interrupted while re-pointing " + standby.name(), e);
        }
    }

    /**
     * Waits until {@code standby} has replayed everything {@code upstream} had written when this
     * was called: its WAL insert position, which covers every record, committed or not.
     */
    static void awaitReplay(PostgresServer standby, PostgresServer upstream, Duration timeout) {
        String target = flushedInsertPosition(upstream);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Connection connection = standby.connectAsSuperuser();
                PreparedStatement query = connection.prepareStatement(
                        "SELECT coalesce(pg_last_wal_replay_lsn() >= ?::pg_lsn, false), pg_last_wal_replay_lsn()::text, "
                                + "pg_last_wal_receive_lsn()::text, pg_get_wal_replay_pause_state()")) {
            query.setString(1, target);
            while (true) {
                String replayed;
                String received;
                String pauseState;
                try (ResultSet result = query.executeQuery()) {
                    result.next();
                    if (result.getBoolean(1)) {
                        return;
                    }
                    replayed = result.getString(2);
                    received = result.getString(3);
                    pauseState = result.getString(4);
                }
                if (System.nanoTime() > deadline) {
                    throw new PostgresTestkitException(standby.name() + " did not replay " + upstream.name()
                            + "'s WAL up to " + target + " within " + timeout + ": replayed " + replayed + ", received "
                            + received + ", replay " + pauseState);
                }
                Thread.sleep(REPLAY_POLL_MILLIS);
            }
        } catch (SQLException e) {
            throw new PostgresTestkitException("Cannot read the replay position of " + standby.name() + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PostgresTestkitException("Interrupted while waiting for replay on " + standby.name(), e);
        }
    }

    /**
     * The upstream's WAL insert position, made sure to reach the standby. WAL senders ship only
     * flushed WAL, and records without a commit (vacuum, say) can sit unflushed in a partial page
     * until the next commit; so the position is read inside a transaction that takes a
     * transaction id and commits synchronously, whose commit flushes everything before it.
     */
    private static String flushedInsertPosition(PostgresServer upstream) {
        try (Connection connection = upstream.connectAsSuperuser()) {
            connection.setAutoCommit(false);
            String target;
            try (Statement statement = connection.createStatement()) {
                statement.execute("SET LOCAL synchronous_commit = on");
                statement.execute("SELECT pg_current_xact_id()");
                try (ResultSet result = statement.executeQuery("SELECT pg_current_wal_insert_lsn()::text")) {
                    result.next();
                    target = result.getString(1);
                }
            }
            connection.commit();
            return target;
        } catch (SQLException e) {
            throw new PostgresTestkitException("Cannot read the current WAL position of " + upstream.name() + ": " + e, e);
        }
    }

    private static void execute(PostgresServer server, String sql, String what) {
        try (Connection connection = server.connectAsSuperuser(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new PostgresTestkitException("Cannot " + what + " " + server.name() + ": " + e, e);
        }
    }
}
