package io.hacluster.examples.chat;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import io.hacluster.db.ConsistencyToken;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A chat client in Java, doing what the web page's script does: log in by name, post, and watch
 * one channel over a websocket that reconnects (after 3 s, doubling to 30 s, with jitter, as the
 * seed's clients) and then catches up from the database, so a node's crash loses nothing for the
 * user and shows nothing twice.
 *
 * <p>The catch-up that makes this hold: on every (re)connection the server's hello carries a
 * consistency token taken after the connection joined the node's hub, so a history read with it
 * sees every post the connection did not get live. The client asks for the posts after its
 * <em>catch-up cursor</em>, the highest id a history read returned (not the highest id seen
 * live: live events from different nodes may arrive out of id order, and one still in flight when
 * the connection dropped would be skipped). Posts are delivered once each, deduplicated by id.
 *
 * <p>Used by the demo, the end-to-end tests and the benchmark. Thread-safe.
 */
public final class ChatClient implements AutoCloseable {

    /** The seed's first reconnect delay. */
    public static final Duration FIRST_RETRY = Duration.ofSeconds(3);
    static final Duration MAX_RETRY = Duration.ofSeconds(30);
    /** Above the router's 10 s connection timeout: a read that meets a replica just gone still ends on the master. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final int PAGE = ChatStore.MAX_PAGE;

    /** Where requests go; without a load balancer, the next of {@link #bases} after a failure. */
    private volatile URI base;
    private final List<URI> bases;
    private final HttpClient http;
    private final User user;
    private final ScheduledExecutorService timer;
    private final Object lock = new Object();
    private volatile ConsistencyToken writeToken;
    // watching state, under lock
    private long channelId;
    private Consumer<Post> listener = p -> { };
    private final Set<Long> seen = new HashSet<>();
    private final List<Post> delivered = new ArrayList<>();
    private long cursor;
    private WebSocket socket;
    private boolean closed;
    private int failedAttempts;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger duplicatesDropped = new AtomicInteger();
    private volatile String servingNode;

    private ChatClient(List<URI> bases, HttpClient http, User user) {
        this.bases = List.copyOf(bases);
        this.base = bases.get(0);
        this.http = http;
        this.user = user;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "chat-client-" + user.username());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Logs in as {@code username} (created when new) at {@code base} (e.g. {@code http://127.0.0.1:8080/},
     * a node or the load balancer in front of them).
     */
    public static ChatClient login(URI base, String username) throws IOException, InterruptedException {
        return login(List.of(base), username);
    }

    /**
     * Logs in at the first of {@code bases}; a websocket that drops reconnects to the next one
     * (client-side failover, for nodes without a load balancer in front).
     */
    public static ChatClient login(List<URI> bases, String username) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        JsonNode body = send(http, HttpRequest.newBuilder(bases.get(0).resolve("/api/v4/users/login"))
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(Map.of("login_id", username)))), 200);
        return new ChatClient(bases, http, Json.MAPPER.treeToValue(body, User.class));
    }

    public User user() {
        return user;
    }

    /** The id of the channel named {@code name}, created when it does not exist. */
    public long channel(String name) throws IOException, InterruptedException {
        JsonNode body = send(http, authorized("/api/v4/channels")
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(Map.of("name", name)))), 201);
        return body.get("id").asLong();
    }

    /** Posts {@code message}; the answer's token makes this client's next reads see it, on any node. */
    public Post post(long channel, String message) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(authorized("/api/v4/posts")
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(Map.of("channel_id", channel, "message", message))))
                .build(), HttpResponse.BodyHandlers.ofString(UTF_8));
        JsonNode body = check(response, 201);
        response.headers().firstValue(Session.TOKEN_HEADER).map(ConsistencyToken::parse).ifPresent(this::advanceWriteToken);
        return Json.MAPPER.treeToValue(body, Post.class);
    }

    /** The channel's posts after {@code since} (the latest page when 0), reading this client's own writes. */
    public List<Post> history(long channel, long since) throws IOException, InterruptedException {
        return history(channel, since, null);
    }

    /** Posts containing {@code terms}, newest first, from the search replica (reading this client's own writes). */
    public List<Post> search(String terms) throws IOException, InterruptedException {
        String q = java.net.URLEncoder.encode(terms, UTF_8);
        JsonNode body = send(http, reading("/api/v4/posts/search?terms=" + q, null).GET(), 200);
        return Json.MAPPER.convertValue(body, new TypeReference<List<Post>>() { });
    }

    /**
     * Starts watching {@code channel}: connects the websocket and keeps it connected until
     * {@link #close()}; each post of the channel reaches {@code onPost} once.
     */
    public void watch(long channel, Consumer<Post> onPost) {
        synchronized (lock) {
            if (socket != null || connections.get() > 0) {
                throw new IllegalStateException("already watching");
            }
            this.channelId = channel;
            this.listener = onPost;
        }
        connect();
    }

    /** Sends a typing notice for the watched channel (best-effort, like the page). */
    public void typing() {
        WebSocket ws;
        long ch;
        synchronized (lock) {
            ws = socket;
            ch = channelId;
        }
        if (ws != null) {
            ws.sendText(Json.write(Map.of("action", "user_typing", "data", Map.of("channel_id", ch))), true);
        }
    }

    /** The posts delivered so far, in delivery order, each once. */
    public List<Post> delivered() {
        synchronized (lock) {
            return List.copyOf(delivered);
        }
    }

    /** How many times the websocket was opened (1 + reconnections). */
    public int connections() {
        return connections.get();
    }

    /** Posts that arrived a second time (live and in a catch-up) and were not delivered again. */
    public int duplicatesDropped() {
        return duplicatesDropped.get();
    }

    /** The node serving the current websocket (from its hello), or null before the first. */
    public String servingNode() {
        return servingNode;
    }

    /** Whether the websocket is open now. */
    public boolean connected() {
        synchronized (lock) {
            return socket != null;
        }
    }

    private void connect() {
        URI ws = URI.create(base.toString().replaceFirst("^http", "ws")).resolve(HttpApi.WEBSOCKET_PATH);
        http.newWebSocketBuilder()
                .header(Session.USER_HEADER, Long.toString(user.id()))
                .connectTimeout(Duration.ofSeconds(5))
                .buildAsync(ws, new Listener())
                .whenComplete((socket, failure) -> {
                    if (failure != null) {
                        retryLater();
                    }
                });
    }

    private void retryLater() {
        long delay;
        synchronized (lock) {
            socket = null;
            if (closed) {
                return;
            }
            long wait = Math.min(MAX_RETRY.toMillis(), FIRST_RETRY.toMillis() << Math.min(failedAttempts, 4));
            failedAttempts++;
            delay = wait + ThreadLocalRandom.current().nextLong(wait / 4 + 1);
            if (bases.size() > 1) {
                base = bases.get((bases.indexOf(base) + 1) % bases.size());
            }
        }
        timer.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    /** On hello: reads everything after the cursor with the hello's token, delivers what is new. */
    private void catchUp(WebSocket ws, ConsistencyToken helloToken) {
        try {
            long ch;
            long from;
            synchronized (lock) {
                ch = channelId;
                from = cursor;
            }
            List<Post> page;
            do {
                page = history(ch, from, helloToken);
                for (Post p : page) {
                    deliver(p);
                    from = Math.max(from, p.id());
                }
                synchronized (lock) {
                    cursor = Math.max(cursor, from);
                }
            } while (page.size() == PAGE && from > 0);
            synchronized (lock) {
                failedAttempts = 0;
            }
        } catch (IOException | RuntimeException e) {
            // without the catch-up this connection could hide a gap: drop it and try again
            ws.abort();
            retryLater();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private List<Post> history(long channel, long since, ConsistencyToken extra) throws IOException, InterruptedException {
        JsonNode body = send(http, reading("/api/v4/channels/" + channel + "/posts?per_page=" + PAGE
                + (since > 0 ? "&since=" + since : ""), extra).GET(), 200);
        return Json.MAPPER.convertValue(body, new TypeReference<List<Post>>() { });
    }

    private void deliver(Post p) {
        Consumer<Post> l;
        synchronized (lock) {
            if (p.channelId() != channelId) {
                return;
            }
            if (!seen.add(p.id())) {
                duplicatesDropped.incrementAndGet();
                return;
            }
            delivered.add(p);
            l = listener;
        }
        l.accept(p);
    }

    private HttpRequest.Builder authorized(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(REQUEST_TIMEOUT)
                .header(Session.USER_HEADER, Long.toString(user.id()));
    }

    /** A read carrying the later of this client's write token and {@code extra}. */
    private HttpRequest.Builder reading(String path, ConsistencyToken extra) {
        ConsistencyToken t = later(writeToken, extra);
        HttpRequest.Builder b = authorized(path);
        return t == null ? b : b.header(Session.TOKEN_HEADER, t.asString());
    }

    private void advanceWriteToken(ConsistencyToken t) {
        synchronized (lock) {
            writeToken = later(writeToken, t);
        }
    }

    private static ConsistencyToken later(ConsistencyToken a, ConsistencyToken b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return Long.compareUnsigned(a.walPosition(), b.walPosition()) >= 0 ? a : b;
    }

    private static JsonNode send(HttpClient http, HttpRequest.Builder request, int expected)
            throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request.timeout(REQUEST_TIMEOUT).build(),
                HttpResponse.BodyHandlers.ofString(UTF_8));
        return check(response, expected);
    }

    private static JsonNode check(HttpResponse<String> response, int expected) throws IOException {
        if (response.statusCode() != expected) {
            throw new IOException(response.request().method() + " " + response.uri().getPath() + " answered "
                    + response.statusCode() + ": " + LogText.escape(response.body()));
        }
        return Json.MAPPER.readTree(response.body());
    }

    @Override
    public void close() {
        WebSocket ws;
        synchronized (lock) {
            closed = true;
            ws = socket;
            socket = null;
        }
        if (ws != null) {
            ws.abort();
        }
        timer.shutdownNow();
    }

    private final class Listener implements WebSocket.Listener {

        private final StringBuilder partial = new StringBuilder();

        @Override
        public void onOpen(WebSocket ws) {
            synchronized (lock) {
                if (closed) {
                    ws.abort();
                    return;
                }
                socket = ws;
            }
            connections.incrementAndGet();
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (partial.length() > 4 * WebSocketSession.MAX_FRAME_BYTES) {
                ws.abort();
                retryLater();
                return null;
            }
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                handle(ws, text);
            }
            ws.request(1);
            return null;
        }

        private void handle(WebSocket ws, String text) {
            JsonNode event;
            try {
                event = Json.MAPPER.readTree(text);
            } catch (IOException e) {
                return;
            }
            switch (event.path("event").asText("")) {
                case "hello" -> {
                    servingNode = event.path("data").path("server_node").asText(null);
                    String token = event.path("data").path("consistency_token").asText(null);
                    ConsistencyToken t = token == null || token.isEmpty() ? null : ConsistencyToken.parse(token);
                    timer.execute(() -> catchUp(ws, t));
                }
                case "posted" -> {
                    try {
                        deliver(Json.MAPPER.treeToValue(event.path("data").path("post"), Post.class));
                    } catch (IOException e) {
                        // not a post: ignore, as the page does
                    }
                }
                default -> {
                    // typing and presence: nothing to keep
                }
            }
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            retryLater();
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            retryLater();
        }
    }
}
