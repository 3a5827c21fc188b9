package io.hacluster;

import io.hacluster.messaging.SendResult;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hacluster.config.ClusterSettings;
import io.hacluster.MembershipState;
import io.hacluster.health.HealthServer;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Status, configuration changes, health and building from a file, on nodes joined by static seeds. */
class ClusterNodeStatusTest {

    private final List<ClusterNode> nodes = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void closeNodes() {
        nodes.forEach(ClusterNode::close);
    }

    private ClusterNode start(ClusterSettings settings, String version) {
        ClusterNode node = ClusterNode.builder().clusterSettings(settings).version(version).schemaVersion("128")
                .joinTimeout(Duration.ofSeconds(5)).build();
        nodes.add(node);
        node.start();
        return node;
    }

    /** A first node, then the others seeded with its gossip address. */
    private List<ClusterNode> cluster(String... versions) {
        String name = TestNodes.clusterName();
        ClusterNode first = start(TestNodes.settings(name, List.of()).build(), versions[0]);
        String seed = "127.0.0.1:" + first.gossipAddress().getPort();
        List<ClusterNode> all = new ArrayList<>(List.of(first));
        for (int i = 1; i < versions.length; i++) {
            all.add(start(TestNodes.settings(name, List.of(seed)).build(), versions[i]));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> all.stream().allMatch(n ->
                n.clusterInfos().size() == versions.length));
        return all;
    }

    private static Map<String, Set<StatusReason>> reasons(ClusterNode viewer) {
        Map<String, Set<StatusReason>> out = new java.util.HashMap<>();
        viewer.clusterInfos().forEach(i -> out.put(i.id(), i.reasons()));
        return out;
    }

    @Test
    void versionMismatchShowsRedWithItsReasonOnEveryNode() {
        List<ClusterNode> three = cluster("10.5.0", "10.5.3", "10.6.0");
        String odd = three.get(2).id();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (ClusterNode viewer : three) {
                Map<String, Set<StatusReason>> r = reasons(viewer);
                assertThat(r).as("seen from %s", viewer.id())
                        .containsEntry(three.get(0).id(), Set.of())
                        .containsEntry(three.get(1).id(), Set.of())
                        .containsEntry(odd, Set.of(StatusReason.VERSION_MISMATCH));
            }
        });
        ClusterInfo oddInfo = three.get(0).clusterInfos().stream().filter(i -> i.id().equals(odd)).findFirst().orElseThrow();
        assertThat(oddInfo.status()).isEqualTo(NodeStatus.RED);
        assertThat(oddInfo.version()).isEqualTo("10.6.0");
        assertThat(three.get(1).health().redNodes()).isEqualTo(1);
    }

    @Test
    void announcedConfigHashChangeShowsRedOnEveryNodeUntilItIsUndone() throws Exception {
        List<ClusterNode> three = cluster("1.0.0", "1.0.0", "1.0.0");
        ClusterNode changed = three.get(1);
        String original = changed.configHash();
        assertThat(three).allMatch(n -> n.configHash().equals(original));  // same config, same hash

        changed.announceConfigHash("0".repeat(64)).get(20, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (ClusterNode viewer : three) {
                Map<String, Set<StatusReason>> r = reasons(viewer);
                assertThat(r).as("seen from %s", viewer.id())
                        .containsEntry(changed.id(), Set.of(StatusReason.CONFIG_HASH_MISMATCH))
                        .containsEntry(three.get(0).id(), Set.of())
                        .containsEntry(three.get(2).id(), Set.of());
            }
        });
        assertThat(changed.localInfo().configHash()).isEqualTo("0".repeat(64));

        changed.announceConfigHash(original).get(20, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> three.stream().allMatch(viewer ->
                viewer.clusterInfos().stream().allMatch(i -> i.status() == NodeStatus.GREEN)));
    }

    @Test
    void nodeOfAnotherClusterIsKeptOut() {
        List<ClusterNode> ours = cluster("1.0.0", "1.0.0");
        String seed = "127.0.0.1:" + ours.get(0).gossipAddress().getPort();
        ClusterNode stranger = start(TestNodes.settings(TestNodes.clusterName(), List.of(seed)).build(), "1.0.0");
        // Give gossip time to spread whatever it would: several probe and push/pull rounds.
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() ->
                ours.stream().allMatch(n -> n.members().stream().noneMatch(m -> m.id().equals(stranger.id())))
                        && stranger.clusterInfos().size() == 1);
    }

    @Test
    void unreachableNodeShowsRedAndTheMessengerFailsSendsToIt() throws Exception {
        List<ClusterNode> three = cluster("1.0.0", "1.0.0", "1.0.0");
        ClusterNode victim = three.get(2);
        String victimId = victim.id();
        victim.haltForTests();  // a crash: no leave broadcast, peers must detect it

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (ClusterNode viewer : three.subList(0, 2)) {
                assertThat(reasons(viewer).get(victimId)).contains(StatusReason.UNREACHABLE);
            }
        });
        await().atMost(Duration.ofSeconds(30)).until(() -> three.get(0).members().stream()
                .anyMatch(m -> m.id().equals(victimId) && m.state() == MembershipState.DEAD));
        CompletableFuture<SendResult> send = three.get(0).sendTo(victimId, ClusterMessage.reliable("x", new byte[1]));
        assertThat(send).failsWithin(Duration.ofSeconds(10));
    }

    private HttpResponse<String> get(InetSocketAddress address, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + address.getPort() + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void healthEndpointAnswers200WhileRunningAnd503AfterClose() throws Exception {
        ClusterSettings settings = TestNodes.settings(TestNodes.clusterName(), List.of())
                .healthPort(TestPorts.tcpAndUdp()).build();
        ClusterNode node = ClusterNode.builder().clusterSettings(settings).healthDrain(Duration.ofSeconds(3)).build();
        nodes.add(node);
        assertThat(node.health().healthy()).isFalse();
        node.start();
        InetSocketAddress endpoint = node.healthAddress().orElseThrow();
        // An application can also run its own endpoint on the node, outliving it.
        HealthServer embedded = new HealthServer(new InetSocketAddress("127.0.0.1", 0), node.healthSource(),
                "ha-test-embedded-health");
        embedded.start();
        try {
            HttpResponse<String> ping = get(endpoint, HealthServer.PING_PATH);
            assertThat(ping.statusCode()).isEqualTo(200);
            assertThat(ping.body()).isEqualTo("{\"status\":\"OK\"}");
            assertThat(get(embedded.address(), HealthServer.PING_PATH).statusCode()).isEqualTo(200);
            HttpResponse<String> status = get(endpoint, HealthServer.STATUS_PATH);
            assertThat(status.statusCode()).isEqualTo(200);
            assertThat(status.body()).contains("\"clusterInfos\"", "\"members\"", node.id(), "\"status\":\"GREEN\"",
                    "\"schema_version\"", "\"config_hash\":\"" + node.configHash() + "\"", "\"ipaddress\":\"127.0.0.1\"");
            assertThat(node.health()).satisfies(h -> {
                assertThat(h.healthy()).isTrue();
                assertThat(h.state()).isEqualTo(LifecycleState.RUNNING);
                assertThat(h.aliveMembers()).isEqualTo(1);
            });

            CompletableFuture<Void> closing = CompletableFuture.runAsync(node::close);
            // While it drains, the node's own endpoint tells the load balancer to go away.
            await().atMost(Duration.ofSeconds(10)).until(() -> get(endpoint, HealthServer.PING_PATH).statusCode() == 503);
            closing.get(30, TimeUnit.SECONDS);
            assertThat(node.health().healthy()).isFalse();
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(TestNodes.threadsOf(node.id())).as("threads left behind").isEmpty());
            assertThatThrownBy(() -> get(endpoint, HealthServer.PING_PATH)).isInstanceOf(ConnectException.class);
            HttpResponse<String> after = get(embedded.address(), HealthServer.PING_PATH);
            assertThat(after.statusCode()).isEqualTo(503);
            assertThat(after.body()).contains("UNHEALTHY");
        } finally {
            embedded.close();
        }
        node.close();  // idempotent
        assertThat(node.state()).isEqualTo(LifecycleState.CLOSED);
        assertThatThrownBy(node::start).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void buildsFromAConfigFileWithEnvironmentOverridesAndKeepsItsId(@TempDir Path dir) throws Exception {
        int filePort = TestPorts.tcpAndUdp();
        int envPort = TestPorts.tcpAndUdp();
        Path idFile = dir.resolve("state/node-id");
        Path config = dir.resolve("config.json");
        Files.writeString(config, """
                {
                  "ServiceSettings": {"SiteURL": "https://chat.example.com"},
                  "ClusterSettings": {
                    "Enable": true,
                    "ClusterName": "%s",
                    "OverrideHostname": "127.0.0.1",
                    "BindAddress": "127.0.0.1",
                    "GossipPort": %d,
                    "StreamingPort": %d,
                    "GossipPreset": "local",
                    "NodeIdFile": "%s"
                  }
                }
                """.formatted(TestNodes.clusterName(), filePort, TestPorts.tcpAndUdp(), idFile));
        Map<String, String> env = Map.of("HA_CLUSTERSETTINGS_GOSSIPPORT", Integer.toString(envPort));

        ClusterNode first = ClusterNode.fromConfigFile(config, env);
        nodes.add(first);
        first.start();
        assertThat(first.gossipAddress().getPort()).isEqualTo(envPort);
        assertThat(first.database()).isEmpty();
        String id = first.id();
        assertThat(Files.readString(idFile).strip()).isEqualTo(id);
        first.close();

        ClusterNode second = ClusterNode.fromConfigFile(config, env);
        nodes.add(second);
        second.start();
        assertThat(second.id()).isEqualTo(id);
        assertThat(second.localInfo().configHash()).isEqualTo(first.configHash());
    }

    @Test
    void handlersRegisteredBeforeStartAreServed() throws Exception {
        String name = TestNodes.clusterName();
        ClusterNode a = ClusterNode.builder().clusterSettings(TestNodes.settings(name, List.of()).build()).build();
        nodes.add(a);
        a.registerHandler("echo", m -> m.reply(m.data()));
        a.start();
        ClusterNode b = start(TestNodes.settings(name, List.of("127.0.0.1:" + a.gossipAddress().getPort())).build(), "0.0.0");
        await().atMost(Duration.ofSeconds(30)).until(() -> b.messenger().connectedPeers().contains(a.id()));
        byte[] reply = b.request(a.id(), "echo", new byte[] {1, 2, 3}, Duration.ofSeconds(10)).get(20, TimeUnit.SECONDS);
        assertThat(reply).containsExactly(1, 2, 3);
    }

    @Test
    void smallBestEffortMessagesRideGossipAndLargeOnesTheStream() throws Exception {
        List<ClusterNode> two = cluster("1.0.0", "1.0.0");
        ClusterNode a = two.get(0);
        ClusterNode b = two.get(1);
        java.util.concurrent.BlockingQueue<Integer> sizes = new java.util.concurrent.LinkedBlockingQueue<>();
        b.registerHandler("inv_channel", m -> sizes.add(m.data().length));
        await().atMost(Duration.ofSeconds(30)).until(() -> a.messenger().connectedPeers().contains(b.id()));
        // UDP may drop a packet even on loopback: send until one arrives, boundedly.
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            a.sendTo(b.id(), ClusterMessage.bestEffort("inv_channel", new byte[26])).get(5, TimeUnit.SECONDS);
            Integer got = sizes.poll(200, TimeUnit.MILLISECONDS);
            return got != null && got == 26;
        });
        assertThat(a.messenger().stats().bestEffortViaChannel()).isPositive();
        long viaChannel = a.messenger().stats().bestEffortViaChannel();
        sizes.clear();
        byte[] large = new byte[64 * 1024];
        new java.util.Random(7).nextBytes(large);  // incompressible, so it cannot shrink into a packet
        a.sendTo(b.id(), ClusterMessage.bestEffort("inv_channel", large)).get(5, TimeUnit.SECONDS);
        assertThat(sizes.poll(20, TimeUnit.SECONDS)).isEqualTo(64 * 1024);
        assertThat(a.messenger().stats().bestEffortViaChannel()).isEqualTo(viaChannel);  // went over the stream
    }

    @Test
    void aNodeWhoseSeedStartsLaterFindsItByRetrying() {
        String name = TestNodes.clusterName();
        ClusterSettings seedSettings = TestNodes.settings(name, List.of()).build();
        // The seed is not running yet: the join fails, the node starts alone and keeps retrying.
        ClusterNode early = start(TestNodes.settings(name, List.of("127.0.0.1:" + seedSettings.gossipPort())).build(),
                "1.0.0");
        assertThat(early.members()).hasSize(1);
        ClusterNode seed = start(seedSettings, "1.0.0");
        await().atMost(Duration.ofSeconds(30)).until(() -> early.clusterInfos().size() == 2
                && seed.clusterInfos().size() == 2);
    }

    @Test
    void unreachableDiscoveryDatabaseFailsStartClearlyAndReleasesEverything() {
        int closedPort = TestPorts.tcpAndUdp();
        ClusterSettings settings = TestNodes.settings(TestNodes.clusterName(), List.of()).healthPort(TestPorts.tcpAndUdp())
                .build();
        ClusterNode node = ClusterNode.builder().clusterSettings(settings)
                .discoveryConnections(() -> java.sql.DriverManager.getConnection(
                        "jdbc:postgresql://127.0.0.1:" + closedPort + "/ha?connectTimeout=5", "ha", "secret-pw"))
                .build();
        nodes.add(node);
        assertThatThrownBy(node::start).isInstanceOf(ClusterStartException.class)
                .hasMessageContaining("ClusterDiscovery")
                .hasMessageNotContaining("secret-pw");
        assertThat(node.state()).isEqualTo(LifecycleState.CLOSED);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(TestNodes.threadsOf(node.id())).as("threads left behind").isEmpty());
        ClusterNode retry = start(settings, "1.0.0");  // gossip, streaming and health ports are free again
        assertThat(retry.healthAddress()).isPresent();
    }

    @Test
    void aRestartedNodeWithItsPersistedIdIsHeardAgain(@TempDir Path dir) throws Exception {
        String name = TestNodes.clusterName();
        ClusterNode a = start(TestNodes.settings(name, List.of()).build(), "1.0.0");
        java.util.concurrent.BlockingQueue<String> got = new java.util.concurrent.LinkedBlockingQueue<>();
        a.registerHandler("hello", m -> got.add(m.senderId() + ":" + new String(m.data(), java.nio.charset.StandardCharsets.UTF_8)));
        ClusterSettings bSettings = TestNodes.settings(name, List.of("127.0.0.1:" + a.gossipAddress().getPort()))
                .nodeIdFile(dir.resolve("b.id").toString()).build();
        for (int life = 1; life <= 2; life++) {
            ClusterNode b = start(bSettings, "1.0.0");
            await().atMost(Duration.ofSeconds(30)).until(() -> a.clusterInfos().stream()
                    .anyMatch(i -> i.id().equals(b.id()) && i.status() == NodeStatus.GREEN));
            for (int i = 0; i < 3; i++) {
                b.sendTo(a.id(), ClusterMessage.reliable("hello", ("life" + life + "-" + i).getBytes(
                        java.nio.charset.StandardCharsets.UTF_8)).waitingForAll(true)).get(30, TimeUnit.SECONDS);
            }
            for (int i = 0; i < 3; i++) {
                assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo(b.id() + ":life" + life + "-" + i);
            }
            b.close();
            await().atMost(Duration.ofSeconds(30)).until(() -> a.clusterInfos().size() == 1);
        }
        assertThat(got).isEmpty();
    }

    @Test
    void clearErrorsForConfigurationsThatCannotWork() {
        assertThatThrownBy(() -> ClusterNode.builder()
                .clusterSettings(TestNodes.settings("c", List.of()).enable(false).build()).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("Enable is false");
        assertThatThrownBy(() -> ClusterNode.builder().build())
                .isInstanceOf(IllegalStateException.class);

        ClusterSettings settings = TestNodes.settings(TestNodes.clusterName(), List.of()).build();
        ClusterNode tooBig = ClusterNode.builder().clusterSettings(settings).version("9".repeat(250))
                .schemaVersion("9".repeat(250)).build();
        nodes.add(tooBig);
        assertThatThrownBy(tooBig::start).isInstanceOf(ClusterStartException.class)
                .hasMessageContaining("over gossip's limit of 512");
        assertThat(tooBig.state()).isEqualTo(LifecycleState.CLOSED);
        // Everything the failed start bound was released: a node can take the same ports.
        ClusterNode retry = start(settings, "1.0.0");
        assertThat(retry.gossipAddress().getPort()).isEqualTo(settings.gossipPort());
    }
}
