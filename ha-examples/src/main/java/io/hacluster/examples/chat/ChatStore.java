package io.hacluster.examples.chat;

import io.hacluster.db.ConsistencyToken;
import io.hacluster.db.DatabaseRouter;
import io.hacluster.db.SqlFunction;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The chat's SQL, routed the way Mattermost routes it: writes on the master; history and lists on
 * a replica (the read-your-writes token, when the caller has one, sends them only to a replica
 * that has replayed it, else to the master); search on a search replica; a lookup that misses on
 * a replica is retried once on the master (a row written a moment ago elsewhere, MM-31094).
 */
final class ChatStore {

    static final int MAX_MESSAGE_CHARS = 4000;
    static final int MAX_PAGE = 200;
    static final int MAX_SEARCH_CHARS = 100;
    /** Mattermost's username rule, a little wider: lowercase letters, digits, '.', '-', '_'. */
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    private static final String POST_COLUMNS = "p.id, p.channel_id, p.user_id, u.username, p.message, p.create_at,"
            + " p.origin_node FROM chat_posts p JOIN chat_users u ON u.id = p.user_id";

    private final DatabaseRouter router;
    private final String nodeId;

    ChatStore(DatabaseRouter router, String nodeId) {
        this.router = router;
        this.nodeId = nodeId;
    }

    /** The master's position now: covers everything committed before this call. */
    ConsistencyToken currentToken() throws SQLException {
        return router.consistencyToken();
    }

    /** The user named {@code username}, created if new (login by name). */
    Written<User> login(String username) throws SQLException, ApiException {
        checkName("login_id", username);
        try (Connection c = router.master()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO chat_users (username, create_at) VALUES (?, ?) ON CONFLICT (username) DO NOTHING")) {
                ps.setString(1, username);
                ps.setLong(2, System.currentTimeMillis());
                ps.executeUpdate();
            }
            User user = userBy(c, "username = ?", username).orElseThrow(
                    () -> new SQLException("user " + username + " vanished right after its insert"));
            return new Written<>(user, DatabaseRouter.consistencyToken(c));
        }
    }

    Optional<User> user(long id) throws SQLException {
        Optional<User> found = router.read(c -> userBy(c, "id = ?", id));
        if (found.isPresent()) {
            return found;
        }
        try (Connection c = router.master()) {
            return userBy(c, "id = ?", id);
        }
    }

    List<Channel> channels(ConsistencyToken token) throws SQLException {
        return router.read(token, c -> {
            List<Channel> out = new ArrayList<>();
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id, name, display_name, create_at FROM chat_channels ORDER BY name LIMIT 500")) {
                while (rs.next()) {
                    out.add(channel(rs));
                }
            }
            return out;
        });
    }

    Optional<Channel> channel(long id) throws SQLException {
        SqlFunction<Optional<Channel>> byId = c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id, name, display_name, create_at FROM chat_channels WHERE id = ?")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(channel(rs)) : Optional.empty();
                }
            }
        };
        Optional<Channel> found = router.read(byId);
        if (found.isPresent()) {
            return found;
        }
        try (Connection c = router.master()) {
            return byId.apply(c);
        }
    }

    /** Creates a channel, or answers the existing one of that name. */
    Written<Channel> createChannel(String name) throws SQLException, ApiException {
        checkName("name", name);
        try (Connection c = router.master()) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO chat_channels (name, display_name, create_at)"
                    + " VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING")) {
                ps.setString(1, name);
                ps.setString(2, name);
                ps.setLong(3, System.currentTimeMillis());
                ps.executeUpdate();
            }
            Channel channel;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id, name, display_name, create_at FROM chat_channels WHERE name = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new SQLException("channel " + name + " vanished right after its insert");
                    }
                    channel = channel(rs);
                }
            }
            return new Written<>(channel, DatabaseRouter.consistencyToken(c));
        }
    }

    /**
     * Writes a post on the master. The channel row is updated first, in the same transaction,
     * which locks it: posts of one channel take their ids and commit one after the other, so in
     * a channel a larger id is always committed later. That is what lets a client catch up with
     * "everything after the last id I had" and miss nothing.
     *
     * @throws ApiException 404 when the channel does not exist
     */
    Written<Post> createPost(long channelId, User author, String message) throws SQLException, ApiException {
        return createPost(channelId, author, message, false);
    }

    /**
     * As {@link #createPost(long, User, String)}; with {@code notify}, the post's event is also
     * sent by {@code pg_notify} on {@value PgNotifyFanout#CHANNEL} in the same transaction
     * (delivered to listeners at the commit).
     */
    Written<Post> createPost(long channelId, User author, String message, boolean notify)
            throws SQLException, ApiException {
        if (message.length() > MAX_MESSAGE_CHARS) {
            throw ApiException.badRequest("api.post.message_too_long",
                    "a message is at most " + MAX_MESSAGE_CHARS + " characters");
        }
        long now = System.currentTimeMillis();
        try (Connection c = router.master()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("UPDATE chat_channels SET last_post_at = ?,"
                        + " total_msg_count = total_msg_count + 1 WHERE id = ?")) {
                    ps.setLong(1, now);
                    ps.setLong(2, channelId);
                    if (ps.executeUpdate() == 0) {
                        c.rollback();
                        throw ApiException.notFound("api.post.unknown_channel", "no channel with id " + channelId);
                    }
                }
                long id;
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO chat_posts (channel_id, user_id, message,"
                        + " create_at, origin_node) VALUES (?, ?, ?, ?, ?) RETURNING id")) {
                    ps.setLong(1, channelId);
                    ps.setLong(2, author.id());
                    ps.setString(3, message);
                    ps.setLong(4, now);
                    ps.setString(5, nodeId);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        id = rs.getLong(1);
                    }
                }
                Post post = new Post(id, channelId, author.id(), author.username(), message, now, nodeId);
                if (notify) {
                    try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
                        ps.setString(1, PgNotifyFanout.CHANNEL);
                        ps.setString(2, ChatEvents.posted(post));
                        ps.execute();
                    }
                }
                c.commit();
                // after the commit: a token taken inside the transaction would not cover it
                return new Written<>(post, DatabaseRouter.consistencyToken(c));
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /**
     * A channel's posts in id order: the {@code limit} latest when {@code sinceId} is 0, else the
     * first {@code limit} after {@code sinceId}. With a token, only a replica that has replayed
     * it (or the master) answers.
     */
    List<Post> history(long channelId, long sinceId, int limit, ConsistencyToken token) throws SQLException {
        int n = Math.max(1, Math.min(limit, MAX_PAGE));
        return router.read(token, c -> {
            String sql = sinceId > 0
                    ? "SELECT " + POST_COLUMNS + " WHERE p.channel_id = ? AND p.id > ? ORDER BY p.id LIMIT ?"
                    : "SELECT * FROM (SELECT " + POST_COLUMNS + " WHERE p.channel_id = ? AND p.id > ?"
                    + " ORDER BY p.id DESC LIMIT ?) latest ORDER BY id";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, channelId);
                ps.setLong(2, sinceId);
                ps.setInt(3, n);
                return posts(ps);
            }
        });
    }

    /**
     * Posts whose text contains {@code terms} (case-insensitive), newest first, from a search
     * replica. With a token, a search replica that has not replayed it is not used: the search
     * runs as a token read instead (a covering replica or the master).
     */
    List<Post> search(String terms, int limit, ConsistencyToken token) throws SQLException {
        int n = Math.max(1, Math.min(limit, MAX_PAGE));
        String pattern = "%" + terms.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
        SqlFunction<List<Post>> query = c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + POST_COLUMNS
                    + " WHERE p.message ILIKE ? ORDER BY p.id DESC LIMIT ?")) {
                ps.setString(1, pattern);
                ps.setInt(2, n);
                return posts(ps);
            }
        };
        if (token == null) {
            return router.searchRead(query);
        }
        List<Post> fromSearchReplica = router.searchRead(c -> covers(c, token) ? query.apply(c) : null);
        return fromSearchReplica != null ? fromSearchReplica : router.read(token, query);
    }

    /** Whether the server behind {@code c} has everything {@code token} covers (a primary always has). */
    private static boolean covers(Connection c, ConsistencyToken token) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery(), (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint")) {
            rs.next();
            return !rs.getBoolean(1) || token.coveredBy(rs.getLong(2));
        }
    }

    private static List<Post> posts(PreparedStatement ps) throws SQLException {
        List<Post> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Post(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getString(4), rs.getString(5),
                        rs.getLong(6), rs.getString(7)));
            }
        }
        return out;
    }

    private static Optional<User> userBy(Connection c, String where, Object value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id, username, create_at FROM chat_users WHERE " + where)) {
            ps.setObject(1, value);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new User(rs.getLong(1), rs.getString(2), rs.getLong(3))) : Optional.empty();
            }
        }
    }

    private static Channel channel(ResultSet rs) throws SQLException {
        return new Channel(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4));
    }

    private static void checkName(String field, String name) throws ApiException {
        if (!NAME.matcher(name).matches()) {
            throw ApiException.badRequest("api.context.invalid_body_param",
                    "'" + field + "' must be 1 to 64 of a-z, 0-9, '.', '-', '_', starting with a letter or digit");
        }
    }
}
