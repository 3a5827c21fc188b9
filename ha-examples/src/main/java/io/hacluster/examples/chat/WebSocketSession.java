package io.hacluster.examples.chat;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One websocket connection after its upgrade: joins the hub, says hello (this node's id and a
 * consistency token, see {@link ChatEvents#hello}), pings when quiet so that proxies keep it
 * open, and takes one client action, {@code user_typing}, which it publishes best-effort.
 * Frames are at most {@value #MAX_FRAME_BYTES} bytes; anything else a client sends is refused
 * with a close code, counted, never echoed.
 */
final class WebSocketSession extends SimpleChannelInboundHandler<WebSocketFrame> {

    static final int MAX_FRAME_BYTES = 16 * 1024;
    /** Pings a connection idle for this long; nginx's default proxy_read_timeout is 60 s. */
    static final int PING_AFTER_IDLE_SECONDS = 25;

    private static final Logger LOG = LoggerFactory.getLogger(WebSocketSession.class);
    private static final AtomicLong BAD_FRAMES = new AtomicLong();

    private final ChatServer server;
    private final User user;

    private WebSocketSession(ChatServer server, User user) {
        this.server = server;
        this.user = user;
    }

    /** Answers the upgrade on the request's connection and turns it into a session. */
    static void upgrade(ChannelHandlerContext ctx, FullHttpRequest request, ChatServer server, User user)
            throws ApiException {
        WebSocketServerHandshakerFactory factory = new WebSocketServerHandshakerFactory(
                "ws://" + request.headers().get("Host", "localhost") + HttpApi.WEBSOCKET_PATH, null, false,
                MAX_FRAME_BYTES);
        WebSocketServerHandshaker handshaker = factory.newHandshaker(request);
        if (handshaker == null) {
            throw new ApiException(HttpResponseStatus.UPGRADE_REQUIRED, "api.web_socket.version",
                    "a websocket upgrade (version 13) is required");
        }
        Channel socket = ctx.channel();
        if (!server.hub().register(socket)) {
            throw new ApiException(HttpResponseStatus.SERVICE_UNAVAILABLE, "api.web_socket.full",
                    "this node has no room for another websocket; try again");
        }
        ctx.pipeline().addBefore(ctx.name(), "ws-idle", new IdleStateHandler(0, PING_AFTER_IDLE_SECONDS, 0, TimeUnit.SECONDS));
        ctx.pipeline().replace(ctx.name(), "ws-session", new WebSocketSession(server, user));
        handshaker.handshake(socket, request).syncUninterruptibly();
        // Joined the hub before the token is taken: every post published here before now was
        // committed before now, so the token covers it (the client's catch-up reads with it).
        String token = null;
        try {
            token = server.store().currentToken().asString();
        } catch (SQLException e) {
            LOG.warn("no consistency token for a websocket hello (master unreachable): {}", e.toString());
        }
        socket.writeAndFlush(new TextWebSocketFrame(ChatEvents.hello(server.node().id(), token)));
        server.fanout().status(user, "online");
        socket.closeFuture().addListener(f -> server.fanout().status(user, "offline"));
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        if (frame instanceof PingWebSocketFrame) {
            ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retain()));
        } else if (frame instanceof PongWebSocketFrame) {
            return;
        } else if (frame instanceof CloseWebSocketFrame) {
            ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE)).addListener(f -> ctx.close());
        } else if (frame instanceof TextWebSocketFrame text && frame.isFinalFragment()) {
            action(ctx, text.text());
        } else {
            refuse(ctx, WebSocketCloseStatus.INVALID_MESSAGE_TYPE, "only whole text frames are understood");
        }
    }

    private void action(ChannelHandlerContext ctx, String text) {
        JsonNode tree;
        try {
            tree = Json.MAPPER.readTree(text);
        } catch (java.io.IOException e) {
            refuse(ctx, WebSocketCloseStatus.INVALID_PAYLOAD_DATA, "not JSON");
            return;
        }
        if (tree == null || !"user_typing".equals(tree.path("action").asText(null))) {
            refuse(ctx, WebSocketCloseStatus.POLICY_VIOLATION, "unknown action");
            return;
        }
        long channelId = tree.path("data").path("channel_id").asLong(0);
        if (channelId <= 0) {
            refuse(ctx, WebSocketCloseStatus.INVALID_PAYLOAD_DATA, "user_typing needs data.channel_id");
            return;
        }
        server.fanout().typing(channelId, user);
    }

    private static void refuse(ChannelHandlerContext ctx, WebSocketCloseStatus status, String reason) {
        long n = BAD_FRAMES.incrementAndGet();
        if (n % 100 == 1) {
            LOG.info("closed a websocket that sent a bad frame ({}; {} so far)", reason, n);
        }
        ctx.writeAndFlush(new CloseWebSocketFrame(status, reason)).addListener(f -> ctx.close());
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent idle && idle.state() == IdleState.WRITER_IDLE) {
            ctx.writeAndFlush(new PingWebSocketFrame());
        } else {
            super.userEventTriggered(ctx, event);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("websocket closed on {}", cause.toString());
        ctx.close();
    }

    static long badFrames() {
        return BAD_FRAMES.get();
    }
}
