package io.hacluster.examples;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.hacluster.ClusterInfo;
import io.hacluster.ClusterMember;
import io.hacluster.ClusterMessage;
import io.hacluster.ClusterNode;
import io.hacluster.NodeStatus;
import io.hacluster.config.ClusterSettings;
import io.hacluster.config.SqlSettings;
import io.hacluster.db.ConsistencyToken;
import io.hacluster.db.DatabaseRouter;
import io.hacluster.db.Dsn;
import io.hacluster.db.ServerState;
import io.hacluster.db.ServerStatus;
import io.hacluster.db.ServerTier;
import io.hacluster.MembershipState;
import io.hacluster.messaging.SendResult;
import io.hacluster.messaging.NodeReply;
import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The scripted demo: a real PostgreSQL primary with two streaming replicas, three
 * {@link ClusterNode}s in this JVM that find each other only through the ClusterDiscovery table,
 * then messaging, gather, database routing, the loss of a node, the health endpoint and a clean
 * shutdown. Every step prints what it did and what it observed; every wait is bounded and a
 * step whose expectation does not hold throws {@link IllegalStateException}, so the scenario
 * either tells a true story or fails.
 *
 * <p>Nothing is left running when {@link #run()} returns or throws: nodes and PostgreSQL are
 * closed in a {@code finally}.
 */
public final class DemoScenario {

    /** Bound on every wait for the cluster to reach a state (generous for a loaded 2-core box). */
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final int NODES = 3;
    private static final String VERSION = "10.5.0";
    private static final String SCHEMA_VERSION = "128";

    private final PrintStream out;
    private final Consumer<String> beforeShutdown;
    private final long startNanos = System.nanoTime();

    /**
     * @param out            where the story is printed
     * @param beforeShutdown runs after the last step and before the shutdown with node1's health
     *                       base URL (the launcher's {@code --stay} blocks there until Ctrl-C);
     *                       must not throw
     */
    public DemoScenario(PrintStream out, Consumer<String> beforeShutdown) {
        this.out = out;
        this.beforeShutdown = beforeShutdown;
    }

    /**
     * Runs the whole scenario.
     *
     * @return the facts observed along the way
     * @throws IllegalStateException when an expected outcome does not happen within its bound
     * @throws Exception             when PostgreSQL, a node or a query fails
     */
    public DemoResult run() throws Exception {
        PostgresTopology pg = null;
        List<ClusterNode> nodes = new ArrayList<>();
        List<String> nodeIds = new ArrayList<>();
        try {
            step("1/8", "PostgreSQL: a primary and 2 streaming replicas (embedded binaries)");
            pg = PostgresTopology.start(2);
            say("primary   %s", Dsn.mask(pg.primary().dsn()));
            for (PostgresServer r : pg.replicas()) {
                say("%-9s %s", r.name(), Dsn.mask(r.dsn()));
            }

            step("2/8", "three ClusterNodes on 127.0.0.1, found only through the ClusterDiscovery table");
            String clusterName = "demo-" + UUID.randomUUID().toString().substring(0, 8);
            SqlSettings sql = SqlSettings.builder()
                    .dataSource(pg.primary().dsn())
                    .dataSourceReplicas(pg.replicas().stream().map(PostgresServer::dsn).toList())
                    .maxOpenConns(4)
                    .maxIdleConns(1)
                    .replicaMonitorIntervalSeconds(1)
                    .build();
            int healthPort = FreePorts.tcpAndUdp();
            for (int i = 0; i < NODES; i++) {
                ClusterSettings.Builder settings = ClusterSettings.builder()
                        .enable(true)
                        .clusterName(clusterName)
                        .overrideHostname("127.0.0.1")
                        .bindAddress("127.0.0.1")
                        .gossipPort(FreePorts.tcpAndUdp())
                        .streamingPort(FreePorts.tcpAndUdp())
                        .gossipPreset("local")
                        .discoveryIntervalSeconds(1)
                        .seeds(List.of());  // no static seeds: the table is the only way in
                if (i == 0) {
                    settings.healthPort(healthPort);
                }
                ClusterNode node = ClusterNode.builder()
                        .clusterSettings(settings.build())
                        .sqlSettings(sql)
                        .version(VERSION)
                        .schemaVersion(SCHEMA_VERSION)
                        .joinTimeout(Duration.ofSeconds(5))
                        .build();
                nodes.add(node);
                node.start();
                nodeIds.add(node.id());
                say("node%d %s  gossip %s  streaming %s%s", i + 1, node.id(), hostPort(node.gossipAddress()),
                        hostPort(node.streamingAddress()),
                        node.healthAddress().map(a -> "  health " + hostPort(a)).orElse(""));
            }
            awaitTrue("every node sees 3 alive members", () -> nodes.stream().allMatch(n ->
                    n.members().stream().filter(m -> m.state() == MembershipState.ALIVE).count() == NODES));
            awaitTrue("every node reports 3 GREEN nodes", () -> nodes.stream().allMatch(n -> {
                List<ClusterInfo> infos = n.clusterInfos();
                return infos.size() == NODES && infos.stream().allMatch(c -> c.status() == NodeStatus.GREEN);
            }));
            ClusterNode node1 = nodes.get(0);
            List<ClusterMember> members = node1.members();
            List<ClusterInfo> infos = node1.clusterInfos();
            say("discovery table rows for %s: %d", clusterName, discoveryRows(node1, clusterName));
            say("members seen by node1:");
            for (ClusterMember m : members) {
                say("  %s %-13s %s%s", label(nodeIds, m.id()), hostPort(m.gossipAddress()), m.state(),
                        m.local() ? " (self)" : "");
            }
            say("clusterInfos seen by node1:");
            for (ClusterInfo c : infos) {
                say("  %s version %s schema %s host %s  %s", label(nodeIds, c.id()), c.version(),
                        c.schemaVersion(), c.hostname(), c.status());
            }
            int memberCount = (int) members.stream().filter(m -> m.state() == MembershipState.ALIVE).count();
            int greenCount = (int) infos.stream().filter(c -> c.status() == NodeStatus.GREEN).count();

            step("3/8", "reliable broadcast of a cache invalidation (inv_channel)");
            Map<String, String> invalidated = new ConcurrentHashMap<>();
            Set<String> published = ConcurrentHashMap.newKeySet();
            Map<String, Integer> wsConnections = new ConcurrentHashMap<>();
            for (int i = 0; i < NODES; i++) {
                ClusterNode n = nodes.get(i);
                String id = n.id();
                int simulatedConnections = 10 * (i + 1) + i;  // 10, 21, 32: a fake websocket count
                wsConnections.put(id, simulatedConnections);
                n.registerHandler("inv_channel", in -> invalidated.put(id, new String(in.data(), UTF_8)));
                n.registerHandler("publish", in -> published.add(id));
                n.registerHandler("ws_connections", in ->
                        in.reply(ByteBuffer.allocate(4).putInt(simulatedConnections).array()));
            }
            String channelId = "town-square";
            SendResult invalidation = node1.send(ClusterMessage.reliable("inv_channel", channelId.getBytes(UTF_8))
                    .waitingForAll(true)).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (!invalidation.allAcknowledged() || invalidation.targets().size() != NODES - 1) {
                throw new IllegalStateException("the invalidation was not acknowledged by every peer: " + invalidation);
            }
            say("node1's broadcast was acknowledged by %s", invalidation.acknowledged().stream()
                    .map(i -> label(nodeIds, i)).sorted().toList());
            awaitTrue("both peers run the inv_channel handler", () -> invalidated.size() == NODES - 1);
            for (Map.Entry<String, String> e : invalidated.entrySet()) {
                say("%s dropped channel '%s' from its cache (sent by node1, acked)", label(nodeIds, e.getKey()),
                        e.getValue());
            }
            List<String> broadcastReceivers = List.copyOf(invalidated.keySet());

            step("4/8", "best-effort publish of a websocket event (gossip UDP, may drop, no ack)");
            String event = "{\"event\":\"posted\",\"channel_id\":\"" + channelId + "\"}";
            nodes.get(1).send(ClusterMessage.bestEffort("publish", event.getBytes(UTF_8)))
                    .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            waitUpTo(Duration.ofSeconds(3), () -> published.size() == NODES - 1);
            say("node2 published %s; received by %d of %d peers within 3 s", event, published.size(), NODES - 1);
            int publishReceivers = published.size();

            step("5/8", "gather per-node stats (simulated websocket connection counts)");
            Map<String, NodeReply> replies = nodes.get(2).gather("ws_connections", new byte[0], Duration.ofSeconds(10))
                    .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            int gatherReplies = 0;
            int totalConnections = 0;
            for (String id : nodeIds) {
                NodeReply r = replies.get(id);
                if (r != null && r.isOk()) {
                    int count = ByteBuffer.wrap(r.data()).getInt();
                    if (count != wsConnections.get(id)) {
                        throw new IllegalStateException("gather reply of " + id + " is " + count
                                + ", its handler answers " + wsConnections.get(id));
                    }
                    gatherReplies++;
                    totalConnections += count;
                    say("%s: %d connections", label(nodeIds, id), count);
                } else {
                    say("%s: no reply (%s)", label(nodeIds, id), r == null ? "missing" : r.error());
                }
            }
            say("node3 gathered %d replies, %d connections in the cluster", gatherReplies, totalConnections);
            if (gatherReplies != NODES) {
                throw new IllegalStateException("gather got " + gatherReplies + " replies from " + NODES + " live nodes");
            }

            step("6/8", "database routing: write on master(), read-your-writes on another node's replica()");
            for (ClusterNode n : nodes) {
                DatabaseRouter router = n.database().orElseThrow();
                awaitTrue("the replicas of " + n.id() + "'s router are HEALTHY", () -> healthyReplicas(router) == 2);
            }
            for (ServerStatus s : node1.database().orElseThrow().servers()) {
                say("node1 router: %-7s %-30s %s%s", s.tier(), s.server(), s.state(),
                        s.tier() == ServerTier.MASTER ? "" : ", lag " + s.lagBytes() + " bytes");
            }
            DatabaseRouter writer = node1.database().orElseThrow();
            long postId;
            String tokenText;
            try (Connection c = writer.master()) {
                try (Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE IF NOT EXISTS demo_posts (id BIGSERIAL PRIMARY KEY, "
                            + "node_id VARCHAR(26) NOT NULL, message TEXT NOT NULL)");
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO demo_posts (node_id, message) VALUES (?, ?) RETURNING id")) {
                    ps.setString(1, node1.id());
                    ps.setString(2, "hello from node1");
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        postId = rs.getLong(1);
                    }
                }
                tokenText = DatabaseRouter.consistencyToken(c).asString();
                say("node1 wrote post %d on %s; consistency token %s", postId, serverName(c), tokenText);
            }
            // The token travels as text (a cookie, a session attribute) and is read by another node.
            DatabaseRouter reader = nodes.get(1).database().orElseThrow();
            ConsistencyToken token = ConsistencyToken.parse(tokenText);
            String readMessage = null;
            String tokenReadServer;
            boolean tokenReadOnReplica;
            try (Connection c = reader.replica(token);
                 PreparedStatement ps = c.prepareStatement("SELECT message, current_setting('cluster_name'), "
                         + "pg_is_in_recovery() FROM demo_posts WHERE id = ?")) {
                ps.setLong(1, postId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        readMessage = rs.getString(1);
                    }
                }
                tokenReadServer = serverName(c);
                tokenReadOnReplica = inRecovery(c);
            }
            boolean readYourWritesSeen = "hello from node1".equals(readMessage);
            say("node2 read post %d with the token on %s (%s): %s", postId, tokenReadServer,
                    tokenReadOnReplica ? "a streaming replica" : "the master, no replica had replayed it",
                    readYourWritesSeen ? "'" + readMessage + "'" : "ROW NOT FOUND");
            if (!readYourWritesSeen) {
                throw new IllegalStateException("a read with a consistency token did not see post " + postId);
            }
            for (int i = 0; i < 2; i++) {
                try (Connection c = reader.replica()) {
                    say("node2 plain replica() read %d served by %s", i + 1, serverName(c));
                }
            }

            step("7/8", "node3 leaves (graceful close; the public API has no crash switch); the others see it go");
            ClusterNode victim = nodes.get(2);
            String victimId = victim.id();
            // ClusterNode's public API has no crash switch (its test-only halt is package-private),
            // so the demo closes node3 gracefully: leave broadcast, discovery row deleted.
            long t0 = System.nanoTime();
            victim.close();
            BooleanSupplier survivorsSeeItGone = () -> nodes.subList(0, 2).stream().allMatch(n ->
                    n.clusterInfos().stream().noneMatch(c -> c.id().equals(victimId))
                            && n.members().stream().noneMatch(m -> m.id().equals(victimId)
                            && m.state() == MembershipState.ALIVE));
            awaitTrue("node1 and node2 stop listing node3", survivorsSeeItGone);
            boolean nodeLossObserved = survivorsSeeItGone.getAsBoolean();
            say("node3 closed; after %d ms node1 and node2 no longer list it", (System.nanoTime() - t0) / 1_000_000);
            for (ClusterMember m : node1.members()) {
                say("  node1 sees %s %s", label(nodeIds, m.id()), m.state());
            }
            say("node1 clusterInfos: %d nodes, %s; discovery rows: %d", node1.clusterInfos().size(),
                    node1.clusterInfos().stream().map(c -> label(nodeIds, c.id()) + " " + c.status()).toList(),
                    discoveryRows(node1, clusterName));
            try {
                node1.sendTo(victimId, ClusterMessage.reliable("inv_channel", channelId.getBytes(UTF_8)))
                        .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                throw new IllegalStateException("a message to the departed node3 was accepted");
            } catch (java.util.concurrent.ExecutionException e) {
                say("a message to node3 now fails: %s", e.getCause().getClass().getSimpleName());
            }

            step("8/8", "health endpoint of node1");
            String pingUrl = "http://127.0.0.1:" + healthPort + "/api/v4/system/ping";
            HttpAnswer ping = get(pingUrl);
            say("GET %s -> %d %s", pingUrl, ping.status(), ping.body().strip());
            int pingStatus = ping.status();
            if (pingStatus != 200) {
                throw new IllegalStateException("node1's ping answered " + pingStatus + " while RUNNING");
            }

            beforeShutdown.accept("http://127.0.0.1:" + healthPort);

            step("--", "shutdown");
            for (ClusterNode n : nodes) {
                n.close();
            }
            nodes.clear();
            List<Integer> postgresPorts = pg.servers().stream().map(PostgresServer::port).toList();
            pg.close();
            pg = null;
            boolean refused = refusesConnections(healthPort);
            boolean postgresStopped = postgresPorts.stream().allMatch(DemoScenario::refusesConnections);
            List<String> threadsLeft = awaitThreadsGone(nodeIds);
            say("nodes closed; health port %s; PostgreSQL ports %s %s; node threads left: %d",
                    refused ? "refuses connections" : "STILL OPEN", postgresPorts,
                    postgresStopped ? "refuse connections" : "STILL OPEN", threadsLeft.size());
            if (!refused || !postgresStopped || !threadsLeft.isEmpty()) {
                throw new IllegalStateException("shutdown left something running: health port "
                        + (refused ? "closed" : "open") + ", PostgreSQL " + (postgresStopped ? "stopped" : "running")
                        + ", threads " + threadsLeft);
            }
            say("done in %.1f s", (System.nanoTime() - startNanos) / 1e9);
            return new DemoResult(memberCount, greenCount, broadcastReceivers, publishReceivers, gatherReplies,
                    totalConnections, readYourWritesSeen, tokenReadServer, tokenReadOnReplica, nodeLossObserved,
                    pingStatus, refused, postgresStopped, threadsLeft);
        } finally {
            for (ClusterNode n : nodes) {
                n.close();
            }
            if (pg != null) {
                pg.close();
            }
        }
    }

    private static int healthyReplicas(DatabaseRouter router) {
        try {
            return (int) router.servers().stream()
                    .filter(s -> s.tier() == ServerTier.REPLICA && s.state() == ServerState.HEALTHY).count();
        } catch (SQLException e) {
            return 0;
        }
    }

    private static int discoveryRows(ClusterNode node, String clusterName) throws SQLException {
        try (Connection c = node.database().orElseThrow().master();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM ClusterDiscovery WHERE ClusterName = ?")) {
            ps.setString(1, clusterName);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** PostgreSQL's cluster_name, which the testkit sets to primary, replica1, replica2. */
    private static String serverName(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_setting('cluster_name')")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static boolean inRecovery(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** A plain HTTP GET as a load balancer's probe sends it; answers the status and the body. */
    private static HttpAnswer get(String url) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
        c.setConnectTimeout(5_000);
        c.setReadTimeout(10_000);
        try {
            int status = c.getResponseCode();
            InputStream body = status < 400 ? c.getInputStream() : c.getErrorStream();
            return new HttpAnswer(status, body == null ? "" : new String(body.readAllBytes(), UTF_8));
        } finally {
            c.disconnect();
        }
    }

    private record HttpAnswer(int status, String body) {
    }

    /** True when nothing accepts TCP connections on 127.0.0.1:{@code port} any more. */
    private static boolean refusesConnections(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            return false;
        } catch (IOException refused) {
            return true;
        }
    }

    /** Waits (bounded) for every thread whose name carries a node id to end; returns the rest. */
    private static List<String> awaitThreadsGone(List<String> nodeIds) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<String> left;
        do {
            left = Thread.getAllStackTraces().keySet().stream()
                    .filter(Thread::isAlive)
                    .map(Thread::getName)
                    .filter(name -> nodeIds.stream().anyMatch(name::contains))
                    .toList();
            if (left.isEmpty()) {
                return left;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        return left;
    }

    private static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        if (!waitUpTo(WAIT, condition)) {
            throw new IllegalStateException("not within " + WAIT.toSeconds() + " s: " + what);
        }
    }

    private static boolean waitUpTo(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(25);
        }
        return true;
    }

    private static String label(List<String> nodeIds, String id) {
        int index = nodeIds.indexOf(id);
        return (index < 0 ? "node?" : "node" + (index + 1)) + " " + id;
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
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
