package io.hacluster.examples.chat;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import io.hacluster.db.Dsn;
import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * {@code java -jar ha-chat.jar demo}: a PostgreSQL primary and a streaming replica (embedded
 * binaries, through ha-testkit), three chat nodes in child JVMs on 127.0.0.1, nginx in front of
 * them when it is installed, then a narrated run: the cluster's status, a post crossing nodes
 * over websockets, the leader killed ({@code SIGKILL}) and the retention job moving, the replica
 * stopped and reads falling back to the master, the crashed node's clients reconnected with
 * nothing lost. Every step checks what it claims and the demo fails (exit 1) if a claim does not
 * hold; everything it started is stopped at the end, and checked to be gone.
 */
final class ChatDemo {

    private static final Duration WAIT = Duration.ofSeconds(60);

    private final PrintStream out;
    private final boolean stay;
    private final long startNanos = System.nanoTime();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ChatDemo(PrintStream out, boolean stay) {
        this.out = out;
        this.stay = stay;
    }

    /** Runs the demo; true when every step held. */
    boolean run() throws Exception {
        Path dir = Files.createTempDirectory("ha-chat-demo-");
        PostgresTopology pg = null;
        LocalChatCluster cluster = null;
        List<ChatClient> clients = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        boolean held = false;
        boolean clean = false;
        try {
            step("1/7", "PostgreSQL: a primary and a streaming replica (embedded binaries, ha-testkit)");
            pg = PostgresTopology.start(1);
            PostgresServer replica = pg.replicas().get(0);
            say("primary  %s", Dsn.mask(pg.primary().dsn()));
            say("replica  %s (also the search replica)", Dsn.mask(replica.dsn()));
            pg.servers().forEach(s -> ports.add(s.port()));

            boolean nginx = NginxFront.binary().isPresent();
            step("2/7", "three chat nodes, each in its own JVM" + (nginx ? ", nginx in front" : " (nginx is not installed:"
                    + " clients fail over between the nodes themselves)"));
            cluster = LocalChatCluster.start(dir, new LocalChatCluster.Options(pg.primary().dsn(),
                    List.of(replica.dsn()), List.of(replica.dsn()), 3, nginx, Duration.ofSeconds(2)));
            for (ChatNodeProcess n : cluster.nodes()) {
                say("%s  id %s  pid %d  http %s  (config %s)", n.name(), n.id(), n.pid(), n.uri(),
                        dir.relativize(n.log().resolveSibling(n.name() + ".json")));
                ports.add(n.httpAddress().getPort());
            }
            cluster.nginx().ifPresent(f -> {
                say("nginx    %s  (config %s)", f.uri(), f.directory().resolve("nginx.conf"));
                ports.add(f.uri().getPort());
            });
            URI entry = cluster.entry();

            step("3/7", "cluster status (GET /api/v4/cluster/status through " + (nginx ? "nginx" : "node1") + ")");
            LocalChatCluster c = cluster;
            awaitTrue("3 GREEN nodes and a leader", () -> {
                JsonNode s = status(entry);
                return s.path("clusterInfos").size() == 3 && greenCount(s) == 3 && s.path("chat").path("leader_id").isTextual();
            });
            JsonNode status = status(entry);
            String leader = status.path("chat").path("leader_id").asText();
            for (JsonNode info : status.path("clusterInfos")) {
                say("%s %s %s%s", label(c, info.path("id").asText()), info.path("ipaddress").asText(),
                        info.path("status").asText(), info.path("id").asText().equals(leader) ? "  <- leader" : "");
            }
            say("GET /api/v4/system/ping -> %s", get(entry.resolve("/api/v4/system/ping")));

            step("4/7", "a post crossing nodes over websockets");
            ChatClient author = ChatClient.login(cluster.clientBases(), "alice");
            clients.add(author);
            long channel = author.channel("town-square");
            List<ChatClient> watchers = cluster.watchersOnEveryNode(channel, "watcher", WAIT);
            clients.addAll(watchers);
            for (ChatClient w : watchers) {
                say("%s watches town-square over a websocket to %s", w.user().username(), label(c, w.servingNode()));
            }
            List<Long> posted = new ArrayList<>();
            Post first = author.post(channel, "hello, cluster");
            posted.add(first.id());
            awaitTrue("every watcher gets post " + first.id(), () -> everyWatcherHas(watchers, posted));
            say("alice posted #%d on %s; every watcher got it: %s", first.id(), label(c, first.originNode()),
                    watchers.stream().map(w -> w.user().username() + "@" + short6(w.servingNode())).toList());

            step("5/7", "the leader crashes (kill -9 of its JVM): its clients reconnect, the job moves");
            ChatNodeProcess victim = cluster.node(leader);
            List<ChatClient> victimClients = watchers.stream().filter(w -> leader.equals(w.servingNode())).toList();
            long killedAt = System.currentTimeMillis();
            victim.kill();
            say("killed %s (pid %d), the leader, serving %d of the websockets", label(c, leader), victim.pid(),
                    victimClients.size());
            for (int i = 1; i <= 5; i++) {
                Post p = author.post(channel, "while a node is down " + i);
                posted.add(p.id());
                say("alice posted #%d on %s", p.id(), label(c, p.originNode()));
            }
            awaitTrue("a new leader", () -> {
                JsonNode s = status(entry);
                return s.path("chat").path("leader_id").isTextual() && !s.path("chat").path("leader_id").asText().equals(leader);
            });
            String newLeader = status(entry).path("chat").path("leader_id").asText();
            say("new leader: %s (%.1f s after the kill)", label(c, newLeader), (System.currentTimeMillis() - killedAt) / 1e3);
            PostgresTopology db = pg;
            awaitTrue("the retention job runs on a survivor", () -> retentionRunsSince(db, killedAt, leader) > 0);
            say("retention job %s: %d runs since the kill, on %s, fencing tokens %s", RetentionJob.TYPE,
                    retentionRunsSince(db, killedAt, leader), retentionNodes(db, killedAt, c), retentionTokens(db, killedAt));

            step("6/7", "the replica stops: reads fall back to the master");
            replica.stop();
            say("replica stopped (%s)", replica.isRunning() ? "STILL RUNNING" : "its port refuses connections");
            long stoppedAt = System.nanoTime();
            List<ChatNodeProcess> live = cluster.nodes().stream().filter(ChatNodeProcess::isAlive).toList();
            awaitTrue("every live node's router takes the replica out of rotation", () -> live.stream()
                    .allMatch(n -> replicaStates(status(n.uri())).stream().noneMatch("HEALTHY"::equals)));
            say("every live node's router marked it %s within %.1f s (SqlSettings.ReplicaMonitorIntervalSeconds 1)",
                    replicaStates(status(live.get(0).uri())), (System.nanoTime() - stoppedAt) / 1e9);
            List<Post> history = author.history(channel, 0);
            List<Post> found = author.search("while a node is down");
            if (!history.stream().map(Post::id).collect(Collectors.toSet()).containsAll(posted) || found.size() != 5) {
                throw new IllegalStateException("reads after the replica stopped missed posts: history "
                        + history.size() + ", search " + found.size());
            }
            say("history read: %d posts, all of alice's; search: %d hits; the replica out of every rotation, both from the master",
                    history.size(), found.size());

            step("7/7", "the crashed node's clients reconnected, nothing lost, nothing twice");
            awaitTrue("every watcher has all " + posted.size() + " posts", () -> everyWatcherHas(watchers, posted));
            for (ChatClient w : watchers) {
                List<Long> ids = w.delivered().stream().map(Post::id).toList();
                if (ids.size() != Set.copyOf(ids).size() || !Set.copyOf(ids).equals(Set.copyOf(posted))) {
                    throw new IllegalStateException(w.user().username() + " has " + ids + ", posted " + posted);
                }
                say("%s on %s: %d posts, %d connection(s), %d duplicate(s) dropped", w.user().username(),
                        label(c, w.servingNode()), ids.size(), w.connections(), w.duplicatesDropped());
            }
            for (ChatClient w : victimClients) {
                if (w.connections() < 2 || leader.equals(w.servingNode())) {
                    throw new IllegalStateException(w.user().username() + " did not reconnect away from the dead node");
                }
            }
            replica.start();
            say("replica started again");

            if (stay) {
                out.printf("%n--stay: the cluster keeps running (two nodes). Open %s in a browser.%n", entry);
                out.println("Press Enter (or Ctrl-C) to stop.");
                out.flush();
                awaitEnterOrSignal();
            }
            held = true;
        } catch (Exception | AssertionError e) {
            out.println("DEMO FAILED: " + e.getMessage());
            if (cluster != null) {
                for (ChatNodeProcess n : cluster.nodes()) {
                    out.println("  " + n.name() + " log: " + n.log());
                }
            }
        } finally {
            step("--", "shutdown");
            clients.forEach(ChatClient::close);
            List<Long> pids = new ArrayList<>();
            if (cluster != null) {
                cluster.nodes().forEach(n -> pids.add(n.pid()));
                cluster.close();
            }
            if (pg != null) {
                pg.close();
            }
            boolean processesGone = pids.stream().noneMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
            boolean portsClosed = ports.stream().allMatch(ChatDemo::refuses);
            say("nodes, nginx and PostgreSQL stopped: processes %s, ports %s", processesGone ? "gone" : "STILL RUNNING",
                    portsClosed ? "closed" : "STILL OPEN");
            clean = processesGone && portsClosed;
            if (held && clean) {
                deleteQuietly(dir);  // kept after a failure: the nodes' logs are in it
            }
            say("%s in %.1f s", held && clean ? "done" : "FAILED", (System.nanoTime() - startNanos) / 1e9);
        }
        return held && clean;
    }

    private static boolean everyWatcherHas(List<ChatClient> watchers, List<Long> ids) {
        return watchers.stream().allMatch(w -> w.delivered().stream().map(Post::id).collect(Collectors.toSet()).containsAll(ids));
    }

    private JsonNode status(URI entry) {
        try {
            return Json.MAPPER.readTree(get(entry.resolve("/api/v4/cluster/status")));
        } catch (IOException e) {
            return Json.MAPPER.createObjectNode();
        }
    }

    private String get(URI uri) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString(UTF_8));
            return r.statusCode() == 200 ? r.body() : "{\"http_status\":" + r.statusCode() + "}";
        } catch (IOException e) {
            return "{}";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "{}";
        }
    }

    /** The states of the replica and search-replica entries in a node's status. */
    private static List<String> replicaStates(JsonNode status) {
        List<String> states = new ArrayList<>();
        for (JsonNode server : status.path("database")) {
            if (!"MASTER".equals(server.path("tier").asText())) {
                states.add(server.path("state").asText());
            }
        }
        return states.isEmpty() ? List.of("HEALTHY") : states;
    }

    private static int greenCount(JsonNode status) {
        int n = 0;
        for (JsonNode info : status.path("clusterInfos")) {
            n += "GREEN".equals(info.path("status").asText()) ? 1 : 0;
        }
        return n;
    }

    private static int retentionRunsSince(PostgresTopology pg, long millis, String except) {
        try (Connection c = pg.primary().connect();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT count(*) FROM chat_retention_runs WHERE ran_at > ? AND node_id <> ?")) {
            ps.setLong(1, millis);
            ps.setString(2, except);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (java.sql.SQLException e) {
            return 0;
        }
    }

    private static String retentionNodes(PostgresTopology pg, long millis, LocalChatCluster c) throws Exception {
        return query(pg, "SELECT DISTINCT node_id FROM chat_retention_runs WHERE ran_at > ?", millis).stream()
                .map(id -> label(c, id)).collect(Collectors.joining(", "));
    }

    private static List<String> retentionTokens(PostgresTopology pg, long millis) throws Exception {
        return query(pg, "SELECT fencing_token::text FROM chat_retention_runs WHERE ran_at > ? ORDER BY ran_at", millis);
    }

    private static List<String> query(PostgresTopology pg, String sql, long millis) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = pg.primary().connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, millis);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private static String label(LocalChatCluster c, String id) {
        return c.nodes().stream().filter(n -> n.id().equals(id)).findFirst().map(n -> n.name() + " " + short6(id))
                .orElse("? " + id);
    }

    private static String short6(String id) {
        return id == null ? "?" : id.substring(0, Math.min(6, id.length()));
    }

    private static boolean refuses(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private void awaitEnterOrSignal() throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            try {
                main.join(60_000);  // let the finally block stop everything
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "chat-demo-stop"));
        Thread stdin = new Thread(() -> {
            try {
                if (new BufferedReader(new InputStreamReader(System.in, UTF_8)).readLine() != null) {
                    stop.countDown();
                }
            } catch (IOException e) {
                // no terminal: Ctrl-C remains
            }
        }, "chat-demo-stdin");
        stdin.setDaemon(true);
        stdin.start();
        stop.await();
    }

    private void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not within " + WAIT.toSeconds() + " s: " + what);
            }
            Thread.sleep(100);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a temp directory: the OS cleans it eventually
        }
    }

    private void step(String number, String title) {
        out.printf("%n[%5.1fs] == %s %s%n", elapsed(), number, title);
    }

    private void say(String format, Object... args) {
        out.printf("[%5.1fs]    %s%n", elapsed(), String.format(format, args));
    }

    private double elapsed() {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
