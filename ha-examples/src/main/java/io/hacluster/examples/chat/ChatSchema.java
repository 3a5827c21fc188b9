package io.hacluster.examples.chat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The chat tables, created on the master by whichever node starts first. Several nodes starting
 * at once would race in {@code CREATE TABLE IF NOT EXISTS} (PostgreSQL can then fail one of them
 * with a unique violation on its catalog), so creation runs under a transaction-scoped advisory
 * lock: the first node creates, the others wait and then find everything there.
 */
final class ChatSchema {

    /** The default channel every server has, as Mattermost's town square. */
    static final String TOWN_SQUARE = "town-square";

    private static final String LOCK = "SELECT pg_advisory_xact_lock(hashtext('io.hacluster.examples.chat.schema'))";

    private static final String[] DDL = {
        "CREATE TABLE IF NOT EXISTS chat_users (id BIGSERIAL PRIMARY KEY, username VARCHAR(64) NOT NULL UNIQUE,"
                + " create_at BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS chat_channels (id BIGSERIAL PRIMARY KEY, name VARCHAR(64) NOT NULL UNIQUE,"
                + " display_name VARCHAR(64) NOT NULL, create_at BIGINT NOT NULL,"
                + " last_post_at BIGINT NOT NULL DEFAULT 0, total_msg_count BIGINT NOT NULL DEFAULT 0)",
        "CREATE TABLE IF NOT EXISTS chat_posts (id BIGSERIAL PRIMARY KEY,"
                + " channel_id BIGINT NOT NULL REFERENCES chat_channels(id),"
                + " user_id BIGINT NOT NULL REFERENCES chat_users(id), message VARCHAR(4000) NOT NULL,"
                + " create_at BIGINT NOT NULL, origin_node VARCHAR(26) NOT NULL)",
        "CREATE INDEX IF NOT EXISTS chat_posts_channel_id_id ON chat_posts (channel_id, id)",
        "CREATE INDEX IF NOT EXISTS chat_posts_create_at ON chat_posts (create_at)",
        "CREATE TABLE IF NOT EXISTS chat_retention_runs (job_id VARCHAR(64) PRIMARY KEY,"
                + " node_id VARCHAR(26) NOT NULL, fencing_token BIGINT NOT NULL, deleted INT NOT NULL,"
                + " ran_at BIGINT NOT NULL)",
    };

    private ChatSchema() {
    }

    /** Creates what is missing, and the town square; safe to run on every node at every start. */
    static void create(Connection master) throws SQLException {
        boolean autoCommit = master.getAutoCommit();
        master.setAutoCommit(false);
        try {
            try (Statement s = master.createStatement()) {
                s.execute(LOCK);
                for (String ddl : DDL) {
                    s.execute(ddl);
                }
            }
            try (PreparedStatement ps = master.prepareStatement("INSERT INTO chat_channels (name, display_name, create_at)"
                    + " VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING")) {
                ps.setString(1, TOWN_SQUARE);
                ps.setString(2, "Town Square");
                ps.setLong(3, System.currentTimeMillis());
                ps.executeUpdate();
            }
            master.commit();
        } catch (SQLException e) {
            master.rollback();
            throw e;
        } finally {
            master.setAutoCommit(autoCommit);
        }
    }
}
