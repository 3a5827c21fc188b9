package io.hacluster.examples.chat;

import static io.netty.handler.codec.http.HttpResponseStatus.CREATED;
import static io.netty.handler.codec.http.HttpResponseStatus.INTERNAL_SERVER_ERROR;
import static io.netty.handler.codec.http.HttpResponseStatus.METHOD_NOT_ALLOWED;
import static io.netty.handler.codec.http.HttpResponseStatus.NOT_FOUND;
import static io.netty.handler.codec.http.HttpResponseStatus.OK;
import static io.netty.handler.codec.http.HttpResponseStatus.SERVICE_UNAVAILABLE;
import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import io.hacluster.db.ConsistencyToken;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST API, the page and the websocket upgrade. Runs on the server's blocking executor,
 * never on an event loop: most requests ask the database. Every refusal is a JSON body
 * {@code {"id": ..., "message": ..., "status_code": ...}} as Mattermost's.
 */
final class HttpApi extends SimpleChannelInboundHandler<FullHttpRequest> {

    static final String WEBSOCKET_PATH = "/api/v4/websocket";

    private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
    private static final Pattern CHANNEL_POSTS = Pattern.compile("/api/v4/channels/([0-9]{1,18})/posts");
    private static final int MAX_QUERY_PARAMS = 16;

    private final ChatServer server;

    HttpApi(ChatServer server) {
        this.server = server;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            send(ctx, request, error(HttpResponseStatus.BAD_REQUEST, "api.context.bad_request", "malformed HTTP request"),
                    List.of());
            return;
        }
        QueryStringDecoder uri = new QueryStringDecoder(request.uri(), UTF_8, true, MAX_QUERY_PARAMS);
        String path = uri.path();
        try {
            if (path.equals(WEBSOCKET_PATH)) {
                requireMethod(request, HttpMethod.GET);
                WebSocketSession.upgrade(ctx, request, server, requireUser(request));
                return;
            }
            route(ctx, request, uri, path);
        } catch (ApiException e) {
            send(ctx, request, error(e.status(), e.id(), e.getMessage()), List.of());
        } catch (SQLException e) {
            LOG.warn("{} {} failed in the database: {}", request.method(), LogText.escape(path), e.toString());
            send(ctx, request, error(SERVICE_UNAVAILABLE, "api.store.unavailable",
                    "the database did not answer; try again"), List.of());
        } catch (RuntimeException e) {
            LOG.error("{} {} failed", request.method(), LogText.escape(path), e);
            send(ctx, request, error(INTERNAL_SERVER_ERROR, "api.internal", "internal error"), List.of());
        }
    }

    private void route(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder uri, String path)
            throws ApiException, SQLException {
        ChatStore store = server.store();
        Matcher channelPosts = CHANNEL_POSTS.matcher(path);
        switch (path) {
            case "/", "/index.html" -> {
                requireMethod(request, HttpMethod.GET);
                sendPage(ctx, request);
            }
            case "/api/v4/system/ping" -> {
                requireMethod(request, HttpMethod.GET);
                boolean healthy = server.healthy();
                send(ctx, request, reply(healthy ? OK : SERVICE_UNAVAILABLE,
                        Map.of("status", healthy ? "OK" : "UNHEALTHY", "node_id", server.node().id())), List.of());
            }
            case "/api/v4/cluster/status" -> {
                requireMethod(request, HttpMethod.GET);
                send(ctx, request, reply(OK, server.status()), List.of());
            }
            case "/api/v4/jobs" -> {
                requireMethod(request, HttpMethod.GET);
                Map<String, String> query = new LinkedHashMap<>();
                uri.parameters().forEach((k, v) -> query.put(k, v.get(0)));
                try {
                    send(ctx, request, reply(OK, server.node().healthSource().jobs(query)), List.of());
                } catch (IllegalArgumentException e) {
                    throw ApiException.badRequest("api.jobs.bad_query", e.getMessage());
                } catch (SQLException e) {
                    throw e;
                } catch (Exception e) {
                    throw new SQLException("jobs could not be read", e);
                }
            }
            case "/api/v4/users/login" -> {
                requireMethod(request, HttpMethod.POST);
                JsonNode body = Json.object(body(request));
                Written<User> user = store.login(Json.text(body, "login_id", 64));
                send(ctx, request, reply(OK, user.value()),
                        List.of(Session.userCookie(user.value().id()), Session.tokenCookie(user.token())));
            }
            case "/api/v4/users/me" -> {
                requireMethod(request, HttpMethod.GET);
                send(ctx, request, reply(OK, requireUser(request)), List.of());
            }
            case "/api/v4/channels" -> {
                if (request.method().equals(HttpMethod.POST)) {
                    requireUser(request);
                    Written<Channel> channel = store.createChannel(Json.text(Json.object(body(request)), "name", 64));
                    server.fanout().channelChanged(channel.value().id());
                    sendWritten(ctx, request, CREATED, channel);
                } else {
                    requireMethod(request, HttpMethod.GET);
                    send(ctx, request, reply(OK, store.channels(Session.token(request))), List.of());
                }
            }
            case "/api/v4/posts" -> {
                requireMethod(request, HttpMethod.POST);
                User author = requireUser(request);
                JsonNode body = Json.object(body(request));
                long channelId = Json.id(body, "channel_id");
                String message = Json.text(body, "message", ChatStore.MAX_MESSAGE_CHARS);
                Channel channel = server.channels().get(channelId).orElseThrow(() ->
                        ApiException.notFound("api.post.unknown_channel", "no channel with id " + channelId));
                boolean notify = server.pgNotify() != null;
                Written<Post> post = store.createPost(channel.id(), author, message, notify);
                if (notify) {
                    server.hub().publishLocally(ChatEvents.posted(post.value()));  // the others by NOTIFY
                } else {
                    server.fanout().posted(post.value());
                }
                sendWritten(ctx, request, CREATED, post);
            }
            case "/api/v4/posts/search" -> {
                requireMethod(request, HttpMethod.GET);
                requireUser(request);
                String terms = param(uri, "terms");
                if (terms == null || terms.isBlank() || terms.length() > ChatStore.MAX_SEARCH_CHARS) {
                    throw ApiException.badRequest("api.post.search.terms",
                            "'terms' must be 1 to " + ChatStore.MAX_SEARCH_CHARS + " characters");
                }
                send(ctx, request, reply(OK, store.search(terms, intParam(uri, "per_page", 50), Session.token(request))),
                        List.of());
            }
            default -> {
                if (!channelPosts.matches()) {
                    throw ApiException.notFound("api.context.404", "no such API");
                }
                requireMethod(request, HttpMethod.GET);
                long channelId = Long.parseLong(channelPosts.group(1));
                if (server.channels().get(channelId).isEmpty()) {
                    throw ApiException.notFound("api.channel.unknown", "no channel with id " + channelId);
                }
                ConsistencyToken token = Session.token(request);
                List<Post> posts = store.history(channelId, longParam(uri, "since"), intParam(uri, "per_page", 60), token);
                send(ctx, request, reply(OK, posts), List.of());
            }
        }
    }

    private User requireUser(FullHttpRequest request) throws ApiException, SQLException {
        long id = Session.userId(request);
        if (id == 0) {
            throw ApiException.unauthorized("log in first: POST /api/v4/users/login {\"login_id\": \"name\"}");
        }
        return server.users().get(id).orElseThrow(() -> ApiException.unauthorized("no user with id " + id
                + "; log in again"));
    }

    private static void requireMethod(FullHttpRequest request, HttpMethod method) throws ApiException {
        if (!request.method().equals(method)) {
            throw new ApiException(METHOD_NOT_ALLOWED, "api.context.method", "use " + method);
        }
    }

    private static byte[] body(FullHttpRequest request) {
        return ByteBufUtil.getBytes(request.content());
    }

    private static String param(QueryStringDecoder uri, String name) {
        List<String> v = uri.parameters().get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    private static long longParam(QueryStringDecoder uri, String name) throws ApiException {
        String v = param(uri, name);
        if (v == null || v.isEmpty()) {
            return 0;
        }
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("api.context.invalid_url_param", "'" + name + "' must be a non-negative integer");
        }
    }

    private static int intParam(QueryStringDecoder uri, String name, int otherwise) throws ApiException {
        String v = param(uri, name);
        if (v == null || v.isEmpty()) {
            return otherwise;
        }
        long n = longParam(uri, name);
        if (n < 1 || n > ChatStore.MAX_PAGE) {
            throw ApiException.badRequest("api.context.invalid_url_param", "'" + name + "' must be 1 to " + ChatStore.MAX_PAGE);
        }
        return (int) n;
    }

    private void sendWritten(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                             Written<?> written) {
        FullHttpResponse response = reply(status, written.value());
        response.headers().set(Session.TOKEN_HEADER, written.token().asString());
        send(ctx, request, response, List.of(Session.tokenCookie(written.token())));
    }

    private void sendPage(ChannelHandlerContext ctx, FullHttpRequest request) {
        byte[] page;
        try (InputStream in = HttpApi.class.getResourceAsStream("/chat/index.html")) {
            if (in == null) {
                throw new IOException("chat/index.html is not on the classpath");
            }
            page = in.readAllBytes();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, OK, Unpooled.wrappedBuffer(page));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/html; charset=utf-8");
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
        send(ctx, request, response, List.of());
    }

    static FullHttpResponse reply(HttpResponseStatus status, Object body) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(Json.bytes(body)));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
        return response;
    }

    static FullHttpResponse error(HttpResponseStatus status, String id, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", id);
        body.put("message", message);
        body.put("status_code", status.code());
        return reply(status, body);
    }

    private void send(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response, List<String> cookies) {
        response.headers().set(Session.NODE_HEADER, server.node().id());
        for (String c : cookies) {
            response.headers().add(HttpHeaderNames.SET_COOKIE, c);
        }
        HttpUtil.setContentLength(response, response.content().readableBytes());
        boolean keepAlive = HttpUtil.isKeepAlive(request) && response.status().code() < 500;
        HttpUtil.setKeepAlive(response, keepAlive);
        var f = ctx.writeAndFlush(response);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("HTTP connection closed on {}", cause.toString());
        ctx.close();
    }
}
