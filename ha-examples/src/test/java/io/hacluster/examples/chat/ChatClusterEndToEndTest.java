package io.hacluster.examples.chat;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three chat nodes, each in its own JVM, behind a real nginx on 127.0.0.1, on a real PostgreSQL
 * primary and streaming replica. Clients go through nginx only. The methods share the cluster
 * and run in order; the last one kills the leader's JVM.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChatClusterEndToEndTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    /** Under target/, kept after the run: the nodes' logs and nginx's access log tell what happened. */
    static final Path DIR = Path.of("target", "e2e-chat-cluster");
    static PostgresTopology pg;
    static LocalChatCluster cluster;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final List<ChatClient> CLIENTS = new ArrayList<>();
    static volatile JsonNode lastStatus;

    @BeforeAll
    static void startCluster() throws Exception {
        RequiredBinary.nginx();
        pg = PostgresTopology.start(1);
        PostgresServer replica = pg.replicas().get(0);
        deleteRecursively(DIR);
        cluster = LocalChatCluster.start(DIR.toAbsolutePath(), new LocalChatCluster.Options(pg.primary().dsn(),
                List.of(replica.dsn()), List.of(replica.dsn()), 3, true, Duration.ofSeconds(2)));
        try {
            await("3 GREEN nodes and a leader, seen through nginx").atMost(WAIT).until(() -> {
                JsonNode s = get("/api/v4/cluster/status");
                lastStatus = s;
                return s.path("clusterInfos").size() == 3
                        && allGreen(s) && !s.path("chat").path("leader_id").isNull();
            });
        } catch (RuntimeException e) {
            throw new AssertionError("last status: " + lastStatus + "\nlogs:\n" + logs(), e);
        }
    }

    @AfterAll
    static void stopCluster() {
        CLIENTS.forEach(ChatClient::close);
        if (cluster != null) {
            cluster.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    @Order(0)
    void theSchemaIsCreatedOnceWhenManyNodesStartTogether() throws Exception {
        // in a schema of its own, so the race starts from nothing
        try (Connection c = pg.primary().connect(); var s = c.createStatement()) {
            s.execute("CREATE SCHEMA schema_race");
        }
        int starters = 6;
        java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(starters);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(starters);
        try {
            List<java.util.concurrent.Future<?>> runs = new ArrayList<>();
            for (int i = 0; i < starters; i++) {
                runs.add(pool.submit(() -> {
                    try (Connection c = pg.primary().connect()) {
                        try (var s = c.createStatement()) {
                            s.execute("SET search_path TO schema_race");
                        }
                        together.await(30, java.util.concurrent.TimeUnit.SECONDS);
                        ChatSchema.create(c);
                    }
                    return null;
                }));
            }
            for (var run : runs) {
                run.get(60, java.util.concurrent.TimeUnit.SECONDS);  // every starter succeeded
            }
        } finally {
            pool.shutdownNow();
        }
        try (Connection c = pg.primary().connect(); var s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM information_schema.tables"
                     + " WHERE table_schema = 'schema_race'), (SELECT count(*) FROM schema_race.chat_channels)")) {
            rs.next();
            assertThat(rs.getInt(1)).as("tables").isEqualTo(4);
            assertThat(rs.getInt(2)).as("town squares").isEqualTo(1);
        }
    }

    @Test
    @Order(1)
    void badRequestsGetClear4xxAndLeaveTheClusterServing() throws Exception {
        ChatClient alice = client("alice");
        assertStatus(post("/api/v4/users/login", "{not json", null), 400, "not valid JSON");
        assertStatus(post("/api/v4/users/login", "[1,2]", null), 400, "JSON object");
        assertStatus(post("/api/v4/users/login", "{\"login_id\":\"Bad Name!\"}", null), 400, "login_id");
        assertStatus(post("/api/v4/posts", "{\"channel_id\":1,\"message\":\"x\"}", null), 401, "log in");
        assertStatus(post("/api/v4/posts", "{\"channel_id\":1,\"message\":\"x\"}", "987654321"), 401, "no user");
        assertStatus(post("/api/v4/posts", "{\"channel_id\":999999,\"message\":\"x\"}", id(alice)), 404, "no channel");
        assertStatus(post("/api/v4/posts", "{\"channel_id\":\"one\",\"message\":\"x\"}", id(alice)), 400, "channel_id");
        assertStatus(post("/api/v4/posts", "{\"channel_id\":1,\"message\":\"" + "y".repeat(4001) + "\"}", id(alice)),
                400, "4000");
        // larger than the node's 64 KiB body bound (nginx lets 50 MB through, as Mattermost's config)
        HttpResponse<String> huge = post("/api/v4/posts", "{\"message\":\"" + "z".repeat(100_000) + "\"}", id(alice));
        assertThat(huge.statusCode()).isEqualTo(413);
        assertStatus(get("/api/v4/channels/999999/posts", id(alice)), 404, "no channel");
        assertStatus(get("/api/v4/channels/1/posts?since=-4", id(alice)), 400, "since");
        assertStatus(get("/api/v4/nothing-here", null), 404, "no such API");

        long channel = alice.channel("e2e-bad-requests");
        Post post = alice.post(channel, "still serving");
        assertThat(alice.history(channel, 0)).extracting(Post::id).containsExactly(post.id());
        assertThat(get("/api/v4/cluster/status").path("clusterInfos")).hasSize(3);
    }

    @Test
    @Order(2)
    void anAuthorReadsItsOwnWritesOnWhicheverNodeServesTheNextRequest() throws Exception {
        ChatClient bob = client("bob");
        long channel = bob.channel("e2e-read-your-writes");
        Set<Long> written = new HashSet<>();
        for (int i = 0; i < 12; i++) {
            Post p = bob.post(channel, "note " + i);
            written.add(p.id());
            // the very next request, through nginx to any node, reads from a replica only if it has replayed it
            assertThat(bob.history(channel, 0)).extracting(Post::id).containsAll(written);
            assertThat(bob.search("note " + i)).extracting(Post::id).contains(p.id());
        }
    }

    @Test
    @Order(3)
    void aRealBrowserLoadsThePageThroughNginxPostsAndSeesAPostMadeOnAnotherNode() throws Exception {
        Path chromium = RequiredBinary.chromium();
        try (CdpBrowser browser = CdpBrowser.launch(chromium, DIR.resolve("chromium-profile"))) {
            browser.navigate(cluster.entry());
            browser.evaluate("document.getElementById('username').value = 'carol';"
                    + " document.getElementById('login').requestSubmit(); true");
            browser.await("the websocket open in town-square", () ->
                    browser.evaluate("document.getElementById('conn').textContent").asText().equals("open")
                            && browser.evaluate("document.getElementById('channelTitle').textContent").asText()
                            .equals("# town-square")
                            && browser.evaluate("document.getElementById('via').textContent").asText().startsWith("node "));
            String pageNode = browser.evaluate("document.getElementById('via').textContent").asText()
                    .replace("node ", "");

            browser.evaluate("document.getElementById('message').value = 'hello from the browser';"
                    + " document.getElementById('compose').requestSubmit(); true");
            browser.await("its own post", () -> pageShows(browser, "hello from the browser"));

            // a post by another user, written on another node than the page's websocket's
            ChatClient dave = client("dave");
            long townSquare = dave.channel("town-square");
            assertThat(dave.history(townSquare, 0)).extracting(Post::message).contains("hello from the browser");
            Post fromElsewhere = null;
            for (int i = 0; i < 6 && (fromElsewhere == null || fromElsewhere.originNode().equals(pageNode)); i++) {
                fromElsewhere = dave.post(townSquare, "hello from java " + i);
            }
            assertThat(pageNode).hasSize(26);
            assertThat(fromElsewhere.originNode()).isNotEqualTo(pageNode);
            String text = fromElsewhere.message();
            browser.await("the post written on " + fromElsewhere.originNode(), () -> pageShows(browser, text));
            browser.await("three GREEN nodes in the cluster view", () ->
                    browser.evaluate("document.querySelectorAll('#nodes td.GREEN').length").asInt() == 3);
            Path shot = Path.of("target", "chat-page.png");
            browser.screenshot(shot);
            assertThat(shot).isNotEmptyFile();
            assertThat(browser.scriptErrors()).isEmpty();
        }
    }

    private static boolean pageShows(CdpBrowser browser, String text) {
        return browser.evaluate("Array.from(document.querySelectorAll('#posts .post .text')).some(e => e.textContent === "
                + Json.write(text) + ")").asBoolean();
    }

    @Test
    @Order(4)
    void postsCrossNodesAndALeaderCrashLosesNothingForItsClients() throws Exception {
        ChatClient author = client("author");
        long channel = author.channel("e2e-town");
        List<ChatClient> watchers = cluster.watchersOnEveryNode(channel, "watcher", WAIT);
        CLIENTS.addAll(watchers);
        assertThat(servedNodes(watchers)).as("websockets through nginx land on every node").hasSize(3);

        List<Long> posted = new ArrayList<>();
        Set<String> writers = new HashSet<>();
        for (int i = 0; i < 10; i++) {
            Post p = author.post(channel, "before " + i);
            posted.add(p.id());
            writers.add(p.originNode());
        }
        awaitEveryWatcherHas(watchers, posted);
        assertThat(writers).as("nginx spread the author's posts over the nodes").hasSizeGreaterThan(1);
        for (ChatClient w : watchers) {
            assertThat(w.delivered().stream().filter(p -> !p.originNode().equals(w.servingNode())))
                    .as("a watcher on %s got posts written on other nodes", w.servingNode()).isNotEmpty();
        }

        await("a leader").atMost(WAIT).until(() -> get("/api/v4/cluster/status").path("chat").path("leader_id").isTextual());
        String leader = get("/api/v4/cluster/status").path("chat").path("leader_id").asText();
        ChatNodeProcess victim = cluster.node(leader);
        List<ChatClient> victimsClients = watchers.stream().filter(w -> leader.equals(w.servingNode())).toList();
        assertThat(victimsClients).isNotEmpty();
        long killedAt = System.currentTimeMillis();
        victim.kill();

        for (int i = 0; i < 10; i++) {
            Post p = author.post(channel, "after " + i);
            posted.add(p.id());
            assertThat(p.originNode()).isNotEqualTo(leader);
        }
        awaitEveryWatcherHas(watchers, posted);
        for (ChatClient w : watchers) {
            assertThat(w.delivered()).extracting(Post::id).as("nothing twice").doesNotHaveDuplicates()
                    .containsExactlyInAnyOrderElementsOf(posted);
        }
        for (ChatClient w : victimsClients) {
            assertThat(w.connections()).as("reconnected").isGreaterThanOrEqualTo(2);
            assertThat(w.servingNode()).isNotEqualTo(leader);
        }

        await("a new leader in the status endpoint").atMost(WAIT).until(() -> {
            JsonNode chat = get("/api/v4/cluster/status").path("chat");
            return chat.path("leader_id").isTextual() && !chat.path("leader_id").asText().equals(leader);
        });
        String newLeader = get("/api/v4/cluster/status").path("chat").path("leader_id").asText();
        await("the retention job runs again after the crash, on a survivor").atMost(WAIT)
                .until(() -> retentionRunsSince(killedAt, leader) >= 2);
        System.out.printf("leader %s killed; new leader %s; retention runs since: %d; reconnections: %s%n", leader,
                newLeader, retentionRunsSince(killedAt, leader),
                victimsClients.stream().map(ChatClient::connections).toList());
    }

    // ------------------------------------------------------------------ helpers

    static void deleteRecursively(Path dir) throws java.io.IOException {
        if (java.nio.file.Files.exists(dir)) {
            try (var paths = java.nio.file.Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    java.nio.file.Files.delete(p);
                }
            }
        }
    }

    /** The last lines of every node's log, for a failure's message. */
    static String logs() {
        if (cluster == null) {
            return "";
        }
        return cluster.nodes().stream().map(n -> n + ":\n  " + ChatNodeProcess.tail(n.log()))
                .collect(Collectors.joining("\n"));
    }

    private static ChatClient client(String name) throws Exception {
        ChatClient c = ChatClient.login(cluster.entry(), name);
        CLIENTS.add(c);
        return c;
    }

    private static Set<String> servedNodes(List<ChatClient> watchers) {
        return watchers.stream().map(ChatClient::servingNode).filter(s -> s != null).collect(Collectors.toSet());
    }

    private static void awaitEveryWatcherHas(List<ChatClient> watchers, List<Long> ids) {
        await("every watcher has posts " + ids).atMost(WAIT).until(() -> watchers.stream().allMatch(w ->
                w.delivered().stream().map(Post::id).collect(Collectors.toSet()).containsAll(ids)));
    }

    private static int retentionRunsSince(long millis, String exceptNode) throws Exception {
        try (Connection c = pg.primary().connect();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT count(*) FROM chat_retention_runs WHERE ran_at > ? AND node_id <> ?")) {
            ps.setLong(1, millis);
            ps.setString(2, exceptNode);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static boolean allGreen(JsonNode status) {
        for (JsonNode n : status.path("clusterInfos")) {
            if (!"GREEN".equals(n.path("status").asText())) {
                return false;
            }
        }
        return true;
    }

    private static String id(ChatClient c) {
        return Long.toString(c.user().id());
    }

    static JsonNode get(String path) throws Exception {
        HttpResponse<String> r = get(path, null);
        assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
        return Json.MAPPER.readTree(r.body());
    }

    private static HttpResponse<String> get(String path, String user) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(cluster.entry().resolve(path)).timeout(Duration.ofSeconds(10));
        if (user != null) {
            b.header(Session.USER_HEADER, user);
        }
        return HTTP.send(b.GET().build(), HttpResponse.BodyHandlers.ofString(UTF_8));
    }

    private static HttpResponse<String> post(String path, String body, String user) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(cluster.entry().resolve(path)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json");
        if (user != null) {
            b.header(Session.USER_HEADER, user);
        }
        return HTTP.send(b.POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString(UTF_8));
    }

    private static void assertStatus(HttpResponse<String> r, int status, String messagePart) throws Exception {
        assertThat(r.statusCode()).as("%s %s: %s", r.request().method(), r.uri().getPath(), r.body()).isEqualTo(status);
        JsonNode body = Json.MAPPER.readTree(r.body());
        assertThat(body.path("message").asText()).contains(messagePart);
        assertThat(body.path("status_code").asInt()).isEqualTo(status);
    }
}
