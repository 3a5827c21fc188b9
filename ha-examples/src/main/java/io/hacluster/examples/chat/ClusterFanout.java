package io.hacluster.examples.chat;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.hacluster.ClusterMessage;
import io.hacluster.ClusterNode;
import io.hacluster.messaging.IncomingMessage;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chat's cluster events, in Mattermost's "X, then XSkipClusterSend" pattern: the node that
 * makes a change applies it locally and sends it; the nodes that receive it apply it locally
 * and never send it on, so nothing echoes.
 *
 * <ul>
 *   <li>{@value #POSTED}: a new post, <b>reliable</b> (acknowledged, in order per sender, as
 *       Mattermost sends {@code posted});</li>
 *   <li>{@value #TYPING} and {@value #STATUS}: typing and presence, <b>best-effort</b> (a lost one
 *       is replaced by the next);</li>
 *   <li>{@value #INV_CHANNEL} and {@value #INV_USER}: drop a cached row, <b>reliable</b>.
 *       Mattermost sends these best-effort and relies on cache TTLs; this cache has no TTL, so a
 *       lost invalidation would be a stale row until restart.</li>
 * </ul>
 */
final class ClusterFanout {

    static final String POSTED = "chat_posted";
    static final String TYPING = "chat_typing";
    static final String STATUS = "chat_status";
    static final String INV_CHANNEL = "chat_inv_channel";
    static final String INV_USER = "chat_inv_user";

    private static final Logger LOG = LoggerFactory.getLogger(ClusterFanout.class);

    private final ClusterNode node;
    private final WebSocketHub hub;
    private final LocalCache<Channel> channels;
    private final LocalCache<User> users;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong sendFailures = new AtomicLong();
    private final AtomicLong received = new AtomicLong();

    ClusterFanout(ClusterNode node, WebSocketHub hub, LocalCache<Channel> channels, LocalCache<User> users) {
        this.node = node;
        this.hub = hub;
        this.channels = channels;
        this.users = users;
    }

    /** Registers the receiving side; call before the node starts, so no event finds no handler. */
    void registerHandlers() {
        node.registerHandler(POSTED, this::publishReceived);
        node.registerHandler(TYPING, this::publishReceived);
        node.registerHandler(STATUS, this::publishReceived);
        node.registerHandler(INV_CHANNEL, m -> {
            received.incrementAndGet();
            channels.invalidate(id(m));
        });
        node.registerHandler(INV_USER, m -> {
            received.incrementAndGet();
            users.invalidate(id(m));
        });
    }

    /** A post: to this node's clients, then reliably to every other node. */
    void posted(Post post) {
        publish(POSTED, ChatEvents.posted(post), true);
    }

    void typing(long channelId, User user) {
        publish(TYPING, ChatEvents.typing(channelId, user), false);
    }

    void status(User user, String status) {
        publish(STATUS, ChatEvents.status(user, status), false);
    }

    void channelChanged(long channelId) {
        channels.invalidate(channelId);
        send(ClusterMessage.reliable(INV_CHANNEL, ByteBuffer.allocate(8).putLong(channelId).array()));
    }

    void userChanged(long userId) {
        users.invalidate(userId);
        send(ClusterMessage.reliable(INV_USER, ByteBuffer.allocate(8).putLong(userId).array()));
    }

    Map<String, Long> stats() {
        return Map.of("sent", sent.get(), "send_failures", sendFailures.get(), "received", received.get());
    }

    private void publish(String event, String json, boolean reliable) {
        hub.publishLocally(json);
        byte[] data = json.getBytes(UTF_8);
        send(reliable ? ClusterMessage.reliable(event, data) : ClusterMessage.bestEffort(event, data));
    }

    private void send(ClusterMessage message) {
        sent.incrementAndGet();
        // Not awaited: the author's request does not wait for the slowest node. A node that
        // does not acknowledge is down or leaving; its clients reconnect to a live node and
        // fetch what they missed from the database.
        java.util.concurrent.CompletableFuture<io.hacluster.messaging.SendResult> sending;
        try {
            sending = node.send(message);
        } catch (RuntimeException e) {  // the node is closing (a presence change as its websockets close)
            sendFailures.incrementAndGet();
            LOG.debug("{} not sent: {}", message.event(), e.toString());
            return;
        }
        sending.whenComplete((result, failure) -> {
            if (failure != null || (result != null && !result.allAcknowledged())) {
                sendFailures.incrementAndGet();
                LOG.debug("{} not acknowledged by every node: {}", message.event(),
                        failure != null ? failure.toString() : result);
            }
        });
    }

    private void publishReceived(IncomingMessage m) {
        received.incrementAndGet();
        // Peers are cluster members; the payload is still checked to be one of our events
        // before it reaches browsers.
        String json = new String(m.data(), UTF_8);
        if (!ChatEvents.isEvent(json)) {
            LOG.warn("dropped a {} from {} that is not a chat event", m.event(), m.senderId());
            return;
        }
        hub.publishLocally(json);
    }

    private static long id(IncomingMessage m) {
        byte[] d = m.data();
        if (d.length != 8) {
            throw new IllegalArgumentException("an invalidation carries an 8-byte id, got " + d.length + " bytes");
        }
        return ByteBuffer.wrap(d).getLong();
    }
}
