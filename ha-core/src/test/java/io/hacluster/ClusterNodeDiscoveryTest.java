package io.hacluster;

import io.hacluster.messaging.SendResult;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.config.SqlSettings;
import io.hacluster.MembershipState;
import io.hacluster.messaging.NodeReply;
import io.hacluster.testkit.PostgresTopology;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three ClusterNodes in one JVM on 127.0.0.1 with no static seeds: they can only find each other
 * through the ClusterDiscovery table of a real PostgreSQL primary.
 */
class ClusterNodeDiscoveryTest {

    private static PostgresTopology pg;
    private final List<ClusterNode> nodes = new ArrayList<>();

    @BeforeAll
    static void startPostgres() {
        pg = PostgresTopology.start(0);
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    @AfterEach
    void closeNodes() {
        nodes.forEach(ClusterNode::close);
    }

    /** Starts three nodes at the same moment, so none can rely on another having registered first. */
    private List<ClusterNode> startThree(String cluster) throws Exception {
        SqlSettings sql = SqlSettings.builder().dataSource(pg.primary().dsn()).maxOpenConns(4).maxIdleConns(1).build();
        List<ClusterNode> three = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            three.add(ClusterNode.builder()
                    .clusterSettings(TestNodes.settings(cluster, List.of()).build())
                    .sqlSettings(sql)
                    .version("10.5." + i)  // patch versions may differ and stay GREEN
                    .schemaVersion("128")
                    .joinTimeout(Duration.ofSeconds(5))
                    .build());
        }
        nodes.addAll(three);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> starts = new ArrayList<>();
            for (ClusterNode n : three) {
                starts.add(pool.submit(() -> {
                    go.await();
                    n.start();
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : starts) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> three.stream().allMatch(n ->
                n.members().stream().filter(m -> m.state() == MembershipState.ALIVE).count() == 3));
        return three;
    }

    private static List<String> discoveryRows(String cluster) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection c = pg.primary().connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT Id, Hostname, GossipPort, Port FROM ClusterDiscovery WHERE ClusterName = ? ORDER BY Id")) {
            ps.setString(1, cluster);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(rs.getString(1) + "@" + rs.getString(2) + ":" + rs.getInt(3) + "/" + rs.getInt(4));
                }
            }
        }
        return rows;
    }

    private static byte[] intBytes(int i) {
        return ByteBuffer.allocate(4).putInt(i).array();
    }

    @Test
    void threeNodesFindEachOtherThroughTheTableAgreeOnClusterInfosAndKeepPerSenderOrderAcrossCuts()
            throws Exception {
        String cluster = TestNodes.clusterName();
        List<ClusterNode> three = startThree(cluster);

        // The table holds exactly the three nodes, with the ports they really listen on.
        List<String> expectedRows = three.stream().sorted(java.util.Comparator.comparing(ClusterNode::id))
                .map(n -> n.id() + "@127.0.0.1:" + n.gossipAddress().getPort() + "/" + n.streamingAddress().getPort())
                .toList();
        assertThat(discoveryRows(cluster)).isEqualTo(expectedRows);

        // Every node sees the same three GREEN nodes.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<ClusterInfo> reference = three.get(0).clusterInfos();
            assertThat(reference).hasSize(3).allMatch(i -> i.status() == NodeStatus.GREEN);
            assertThat(reference).extracting(ClusterInfo::id)
                    .containsExactlyInAnyOrderElementsOf(three.stream().map(ClusterNode::id).toList());
            // Everything but the clock offset, which each node measures from where it stands.
            for (ClusterNode n : three) {
                assertThat(n.clusterInfos()).usingRecursiveFieldByFieldElementComparatorIgnoringFields("clock")
                        .isEqualTo(reference);
            }
        });
        // The router built from SqlSettings serves the application too.
        try (Connection c = three.get(1).database().orElseThrow().master();
             ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM ClusterDiscovery")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isGreaterThanOrEqualTo(3);
        }
        ClusterInfo info = three.get(1).localInfo();
        assertThat(info.hostname()).isEqualTo("127.0.0.1");
        assertThat(info.version()).isEqualTo("10.5.1");
        assertThat(info.configHash()).hasSize(64);

        // Reliable broadcasts from every node, while streaming connections are cut and restored:
        // 3 nodes x 17,000 broadcasts x 2 receivers = 102,000 reliable messages.
        int rounds = 10;
        int perRound = 1700;
        Map<String, Map<String, List<Integer>>> received = new ConcurrentHashMap<>();
        for (ClusterNode n : three) {
            Map<String, List<Integer>> bySender = new ConcurrentHashMap<>();
            received.put(n.id(), bySender);
            n.registerHandler("seq", m -> bySender
                    .computeIfAbsent(m.senderId(), k -> Collections.synchronizedList(new ArrayList<>()))
                    .add(ByteBuffer.wrap(m.data()).getInt()));
        }
        List<CompletableFuture<SendResult>> sends = new ArrayList<>();
        int next = 0;
        for (int round = 0; round < rounds; round++) {
            ClusterNode cutter = three.get(round % 3);
            ClusterNode victim = three.get((round + 1) % 3);
            for (int i = 0; i < perRound / 2; i++, next++) {
                for (ClusterNode n : three) {
                    sends.add(n.send(ClusterMessage.reliable("seq", intBytes(next))));
                }
            }
            cutter.streamFaults().cut(victim.id());
            for (int i = 0; i < perRound / 2; i++, next++) {
                for (ClusterNode n : three) {
                    sends.add(n.send(ClusterMessage.reliable("seq", intBytes(next))));
                }
            }
            Thread.sleep(100);  // let the cut peer's queue build up before the restore
            cutter.streamFaults().restore(victim.id());
            // Back-pressure as an application would apply it: stay well inside PeerQueueSize.
            await().atMost(Duration.ofSeconds(60)).until(() -> three.stream().allMatch(n ->
                    three.stream().allMatch(p -> n.messenger().pendingCount(p.id()) < 3000)));
        }
        int total = next;
        long established = three.stream().mapToLong(n -> n.messenger().stats().connectionsEstablished()).sum();
        assertThat(established).as("each cut forces a reconnect").isGreaterThanOrEqualTo(3 + rounds);
        CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        List<Integer> expected = IntStream.range(0, total).boxed().toList();
        await().atMost(Duration.ofSeconds(120)).until(() -> three.stream().allMatch(receiver ->
                three.stream().filter(s -> s != receiver).allMatch(sender -> {
                    List<Integer> got = received.get(receiver.id()).get(sender.id());
                    return got != null && got.size() >= total;
                })));
        for (ClusterNode receiver : three) {
            for (ClusterNode sender : three) {
                if (sender == receiver) {
                    continue;
                }
                List<Integer> got = received.get(receiver.id()).get(sender.id());
                synchronized (got) {
                    assertThat(got).as("%s from %s", receiver.id(), sender.id()).isEqualTo(expected);
                }
            }
            assertThat(received.get(receiver.id())).doesNotContainKey(receiver.id());  // a broadcast skips self
        }

        // A closed node takes its row out of the table; the others see it leave.
        ClusterNode leaving = three.get(2);
        leaving.close();
        assertThat(discoveryRows(cluster)).hasSize(2).noneMatch(r -> r.startsWith(leaving.id()));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(TestNodes.threadsOf(leaving.id())).as("threads left behind").isEmpty());
        await().atMost(Duration.ofSeconds(30)).until(() -> three.get(0).clusterInfos().size() == 2
                && three.get(1).clusterInfos().size() == 2);
    }

    @Test
    void gatherAnswersForEveryLiveNodeAndAnErrorForANodeThatCrashesDuringIt() throws Exception {
        List<ClusterNode> three = startThree(TestNodes.clusterName());
        ClusterNode asker = three.get(0);
        ClusterNode victim = three.get(2);
        CountDownLatch victimGotIt = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        for (ClusterNode n : three) {
            n.registerHandler("slow-stats", m -> {
                if (n == victim) {
                    victimGotIt.countDown();
                    never.await(60, TimeUnit.SECONDS);
                }
                m.reply(n.id().getBytes(StandardCharsets.UTF_8));
            });
        }
        await().atMost(Duration.ofSeconds(30)).until(() ->
                three.stream().allMatch(n -> n.messenger().connectedPeers().size() == 2));
        CompletableFuture<Map<String, NodeReply>> pending = asker.gather("slow-stats", new byte[0], Duration.ofSeconds(10));
        assertThat(victimGotIt.await(30, TimeUnit.SECONDS)).isTrue();
        victim.haltForTests();  // no leave, no goodbye: gossip has to find out
        Map<String, NodeReply> replies = pending.get(60, TimeUnit.SECONDS);
        never.countDown();
        assertThat(replies).hasSize(3);
        assertThat(replies.get(asker.id()).isOk()).isTrue();
        assertThat(replies.get(three.get(1).id()).isOk()).isTrue();
        assertThat(replies.get(victim.id()).isOk()).isFalse();
    }

    @Test
    void gatherAnswersForEveryLiveNodeAndAnErrorForANodeKilledDuringIt() throws Exception {
        List<ClusterNode> three = startThree(TestNodes.clusterName());
        ClusterNode asker = three.get(0);
        ClusterNode victim = three.get(2);
        CountDownLatch victimGotIt = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        for (ClusterNode n : three) {
            n.registerHandler("stats", m -> m.reply(n.id().getBytes(StandardCharsets.UTF_8)));
            n.registerHandler("slow-stats", m -> {
                if (n == victim) {
                    victimGotIt.countDown();
                    never.await(60, TimeUnit.SECONDS);  // the node dies before it answers
                }
                m.reply(n.id().getBytes(StandardCharsets.UTF_8));
            });
        }
        await().atMost(Duration.ofSeconds(30)).until(() ->
                three.stream().allMatch(n -> n.messenger().connectedPeers().size() == 2));

        Map<String, NodeReply> all = asker.gather("stats", new byte[0], Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS);
        assertThat(all).hasSize(3);
        all.forEach((id, reply) -> {
            assertThat(reply.isOk()).as(reply.toString()).isTrue();
            assertThat(new String(reply.data(), StandardCharsets.UTF_8)).isEqualTo(id);
        });

        long t0 = System.nanoTime();
        Duration timeout = Duration.ofSeconds(30);
        CompletableFuture<Map<String, NodeReply>> pending = asker.gather("slow-stats", new byte[0], timeout);
        assertThat(victimGotIt.await(30, TimeUnit.SECONDS)).isTrue();
        victim.close();
        Map<String, NodeReply> replies = pending.get(60, TimeUnit.SECONDS);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        never.countDown();

        assertThat(replies.keySet()).containsExactlyInAnyOrder(three.get(0).id(), three.get(1).id(), victim.id());
        assertThat(replies.get(three.get(0).id()).isOk()).isTrue();
        assertThat(replies.get(three.get(1).id()).isOk()).isTrue();
        assertThat(replies.get(victim.id()).isOk()).isFalse();
        assertThat(replies.get(victim.id()).error()).isNotNull();
        // The error comes from the node's departure, not from waiting out the whole timeout.
        assertThat(took).isLessThan(timeout);
    }
}
