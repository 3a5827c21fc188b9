package io.hacluster.examples.chat;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's websocket connections and the local half of every publish (Mattermost's hub):
 * an event is written to each of them. A client that does not read fast enough (its channel
 * stops being writable) is disconnected instead of buffered without bound; it reconnects and
 * fetches what it missed, so nothing is lost, and a slow client cannot exhaust the node's memory.
 *
 * <p>Every connection gets every event; a client shows the channels it watches. (Mattermost
 * sends an event to the channel's members only; membership is beyond this example.)
 */
final class WebSocketHub {

    private static final Logger LOG = LoggerFactory.getLogger(WebSocketHub.class);

    private final int maxConnections;
    private final ChannelGroup sockets = new DefaultChannelGroup("chat-websockets", GlobalEventExecutor.INSTANCE);
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong slowClientsDropped = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    WebSocketHub(int maxConnections) {
        this.maxConnections = maxConnections;
    }

    /** Adds a connection (removed by itself when it closes); false when the node is at its bound. */
    boolean register(Channel socket) {
        if (sockets.size() >= maxConnections) {
            refused.incrementAndGet();
            return false;
        }
        return sockets.add(socket);
    }

    /** Writes {@code eventJson} to every local connection; never re-sends to the cluster. */
    void publishLocally(String eventJson) {
        published.incrementAndGet();
        for (Channel socket : sockets) {
            if (!socket.isWritable()) {
                if (slowClientsDropped.incrementAndGet() % 100 == 1) {
                    LOG.warn("dropping a websocket client that does not keep up ({} so far); it will reconnect and catch up",
                            slowClientsDropped.get());
                }
                socket.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.TRY_AGAIN_LATER, "too slow"))
                        .addListener(f -> socket.close());
                continue;
            }
            socket.writeAndFlush(new TextWebSocketFrame(eventJson));
        }
    }

    int connections() {
        return sockets.size();
    }

    long published() {
        return published.get();
    }

    long slowClientsDropped() {
        return slowClientsDropped.get();
    }

    long refused() {
        return refused.get();
    }

    /** Closes every connection (a node shutting down: clients reconnect elsewhere). */
    void closeAll() {
        sockets.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.SERVICE_RESTART, "node shutting down"))
                .awaitUninterruptibly(2_000);
        sockets.close().awaitUninterruptibly(2_000);
    }
}
