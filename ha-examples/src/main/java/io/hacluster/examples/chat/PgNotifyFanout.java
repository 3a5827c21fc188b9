package io.hacluster.examples.chat;

import io.hacluster.db.DatabaseRouter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicBoolean;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The benchmark's peer for the cluster fan-out: posts go to the other nodes by PostgreSQL
 * {@code LISTEN/NOTIFY} (the post's transaction calls {@code pg_notify}, see
 * {@link ChatStore#createPost(long, User, String, boolean)}), as one might build it without a
 * cluster library. Each node keeps one master connection listening and publishes what arrives
 * to its own clients, skipping its own posts (it published those itself). Payloads are bounded
 * by PostgreSQL (8000 bytes); a lost connection is re-established, and what was sent meanwhile is
 * lost to the live stream (clients catch up on reconnect, not here: a difference from the
 * cluster's reliable messages).
 */
final class PgNotifyFanout implements AutoCloseable {

    static final String CHANNEL = "chat_posted";

    private static final Logger LOG = LoggerFactory.getLogger(PgNotifyFanout.class);

    private final DatabaseRouter router;
    private final String nodeId;
    private final WebSocketHub hub;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread listener;

    PgNotifyFanout(DatabaseRouter router, String nodeId, WebSocketHub hub) {
        this.router = router;
        this.nodeId = nodeId;
        this.hub = hub;
        this.listener = new Thread(this::listen, "chat-" + nodeId + "-pg-listen");
        listener.setDaemon(true);
        listener.start();
    }

    private void listen() {
        String own = "\"origin_node\":\"" + nodeId + "\"";
        while (!closed.get()) {
            try (Connection c = router.master()) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                while (!closed.get()) {
                    PGNotification[] batch = pg.getNotifications(500);
                    if (batch == null) {
                        continue;
                    }
                    for (PGNotification n : batch) {
                        String payload = n.getParameter();
                        if (!payload.contains(own) && ChatEvents.isEvent(payload)) {
                            hub.publishLocally(payload);
                        }
                    }
                }
            } catch (SQLException e) {
                if (!closed.get()) {
                    LOG.warn("LISTEN {} lost ({}); listening again in 1 s", CHANNEL, e.toString());
                    try {
                        Thread.sleep(1_000);
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        closed.set(true);
        try {
            listener.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
