package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hacluster.health.HealthServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 12: a node whose wall clock is 2 s ahead (an injected clock, its offset changeable while
 * it runs) shows RED with CLOCK_SKEW on every node, itself included, in {@code clusterInfos()} and
 * in {@code GET /api/v4/cluster/status}; every node's estimate of the offset is within 50 ms of
 * the injected one; when the offset is removed every node shows all three GREEN again.
 */
class ClusterNodeClockSkewStatusTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration SKEW = Duration.ofSeconds(2);
    private static final double TOLERANCE_MILLIS = 50;

    private final List<ClusterNode> nodes = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();

    @AfterEach
    void closeAll() {
        nodes.forEach(ClusterNode::close);
    }

    private ClusterNode start(String cluster, String seed, Clock clock) {
        ClusterNode n = ClusterNode.builder()
                .clusterSettings(TestNodes.settings(cluster, seed == null ? List.of() : List.of(seed))
                        .healthPort(TestPorts.tcpAndUdp()).build())
                .clock(clock)
                .clockSampleInterval(Duration.ofMillis(200))
                .joinTimeout(Duration.ofSeconds(10))
                .build();
        n.start();
        nodes.add(n);
        return n;
    }

    private JsonNode status(ClusterNode n) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + n.healthAddress().orElseThrow().getPort() + HealthServer.STATUS_PATH)).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return json.readTree(r.body());
    }

    private static JsonNode entry(JsonNode status, String id) {
        for (JsonNode info : status.path("clusterInfos")) {
            if (info.path("id").asText().equals(id)) {
                return info;
            }
        }
        throw new AssertionError("no clusterInfos entry for " + id + " in " + status);
    }

    @Test
    void aSkewedClockIsRedOnEveryNodeAndGreenOnceCorrected() throws Exception {
        String cluster = TestNodes.clusterName();
        AdjustableClock skewedClock = new AdjustableClock(SKEW);
        ClusterNode a = start(cluster, null, Clock.systemUTC());
        String seed = "127.0.0.1:" + a.gossipAddress().getPort();
        ClusterNode b = start(cluster, seed, Clock.systemUTC());
        ClusterNode skewed = start(cluster, seed, skewedClock);
        String s = skewed.id();
        await().atMost(WAIT).until(() -> nodes.stream().allMatch(n -> n.members().size() == 3
                && n.messenger().connectedPeers().size() == 2));

        // every node: the skewed one RED with CLOCK_SKEW (and only that reason), the others GREEN
        await().atMost(WAIT).untilAsserted(() -> {
            for (ClusterNode n : nodes) {
                for (ClusterInfo info : n.clusterInfos()) {
                    if (info.id().equals(s)) {
                        assertThat(info.status()).as("%s seen from %s", s, n.id()).isEqualTo(NodeStatus.RED);
                        assertThat(info.reasons()).isEqualTo(Set.of(StatusReason.CLOCK_SKEW));
                    } else {
                        assertThat(info.status()).as("%s seen from %s", info.id(), n.id()).isEqualTo(NodeStatus.GREEN);
                    }
                }
            }
        });
        // the estimates: +2 s seen from the true clocks, -2 s seen from the skewed one
        await().atMost(WAIT).untilAsserted(() -> {
            for (ClusterNode n : List.of(a, b)) {
                ClockOffset o = info(n, s).clock();
                assertThat(o).isNotNull();
                assertThat(o.offsetMillis()).isCloseTo(SKEW.toMillis(), org.assertj.core.data.Offset.offset(TOLERANCE_MILLIS));
                assertThat(info(n, n.id()).clock().offsetMillis()).isZero();
            }
            for (ClusterNode other : List.of(a, b)) {
                ClockOffset o = info(skewed, other.id()).clock();
                assertThat(o).isNotNull();
                assertThat(o.offsetMillis()).isCloseTo(-SKEW.toMillis(), org.assertj.core.data.Offset.offset(TOLERANCE_MILLIS));
            }
        });
        // the same on the status endpoint of every node
        for (ClusterNode n : nodes) {
            JsonNode status = status(n);
            JsonNode e = entry(status, s);
            assertThat(e.path("status").asText()).isEqualTo("RED");
            assertThat(e.path("reasons").toString()).contains("CLOCK_SKEW");
            double expected = n == skewed ? 0 : SKEW.toMillis();
            assertThat(e.path("clock").path("offsetMillis").asDouble())
                    .isCloseTo(expected, org.assertj.core.data.Offset.offset(TOLERANCE_MILLIS));
            for (ClusterNode other : nodes) {
                if (other != skewed) {
                    assertThat(entry(status, other.id()).path("status").asText()).isEqualTo("GREEN");
                }
            }
        }
        assertThat(a.health().redNodes()).isEqualTo(1);

        skewedClock.setOffset(Duration.ZERO);
        await().atMost(WAIT).untilAsserted(() -> {
            for (ClusterNode n : nodes) {
                assertThat(n.clusterInfos()).as("seen from %s", n.id()).hasSize(3)
                        .allSatisfy(i -> assertThat(i.status()).isEqualTo(NodeStatus.GREEN));
                for (ClusterNode other : nodes) {
                    if (other != n) {
                        assertThat(info(n, other.id()).clock().offsetMillis())
                                .isCloseTo(0, org.assertj.core.data.Offset.offset(TOLERANCE_MILLIS));
                    }
                }
            }
        });
        for (ClusterNode n : nodes) {
            JsonNode status = status(n);
            for (JsonNode info : status.path("clusterInfos")) {
                assertThat(info.path("status").asText()).isEqualTo("GREEN");
            }
        }
        assertThat(skewed.messenger().clockProbeStats().samples()).isPositive();
        assertThat(a.messenger().clockProbeStats().answered()).isPositive();
    }

    private static ClusterInfo info(ClusterNode n, String id) {
        return n.clusterInfos().stream().filter(i -> i.id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no entry for " + id + " on " + n.id()));
    }
}
