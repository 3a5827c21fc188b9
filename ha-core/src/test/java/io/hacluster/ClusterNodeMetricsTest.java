package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hacluster.config.SqlSettings;
import io.hacluster.election.LeaseSettings;
import io.hacluster.metrics.ClusterNodeMetrics;
import io.hacluster.testkit.PostgresTopology;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
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
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 3-node cluster with a database (a primary and a streaming replica) scraped over
 * {@code GET /metrics}: every metric the Grafana dashboard in docs/grafana queries is exported,
 * and a crashed node shows in the membership and messaging queries.
 */
class ClusterNodeMetricsTest {

    private static final Path DASHBOARD = Path.of("..", "docs", "grafana", "ha-cluster-dashboard.json");
    private static final Path METRICS_DOC = Path.of("..", "docs", "operations-metrics.md");
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static PostgresTopology pg;
    private static SqlSettings sql;

    @TempDir
    Path dir;
    private final List<ClusterNode> nodes = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startPostgres() {
        pg = PostgresTopology.start(1);
        sql = SqlSettings.builder().dataSource(pg.primary().dsn())
                .dataSourceReplicas(List.of(pg.replicas().get(0).dsn())).maxOpenConns(4).maxIdleConns(2).build();
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    @AfterEach
    void closeAll() {
        nodes.forEach(ClusterNode::close);
    }

    private ClusterNode start(String cluster, int rank, String seed) throws Exception {
        Path idFile = dir.resolve("n" + rank + ".id");
        Files.writeString(idFile, ElectionNodes.idOf(rank) + "\n");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ClusterNode n = ClusterNode.builder()
                .clusterSettings(TestNodes.settings(cluster, seed == null ? List.of() : List.of(seed))
                        .nodeIdFile(idFile.toString()).healthPort(TestPorts.tcpAndUdp()).build())
                .sqlSettings(sql)
                .leaseSettings(new LeaseSettings(Duration.ofSeconds(3), Duration.ofMillis(1500), Duration.ofMillis(300)))
                .metricsScrape(registry::scrape)
                .databasePoolMetrics(new MicrometerMetricsTrackerFactory(registry))
                .joinTimeout(Duration.ofSeconds(10))
                .build();
        n.start();
        new ClusterNodeMetrics(n).bindTo(registry);
        nodes.add(n);
        return n;
    }

    private String scrape(ClusterNode n) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + n.healthAddress().orElseThrow().getPort() + "/metrics")).timeout(WAIT).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        return r.body();
    }

    /** The metric names the dashboard's queries use. */
    private static Set<String> dashboardMetrics() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        Set<String> names = new TreeSet<>();
        Pattern metric = Pattern.compile("\\bha_[a-z_]+");
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                Matcher m = metric.matcher(target.path("expr").asText());
                while (m.find()) {
                    names.add(m.group());
                }
            }
        }
        return names;
    }

    /**
     * Every meter the tables of docs/operations-metrics.md name, as Prometheus writes it: a row's
     * first cell lists names, where {@code .x} replaces the last part of the name before it; the
     * type cell decides the suffix.
     */
    static Set<String> documentedMetrics() throws Exception {
        Set<String> names = new TreeSet<>();
        Pattern row = Pattern.compile("^\\| (`[^|]+) \\| ([a-z ]+)[^|]*\\|");
        Pattern name = Pattern.compile("`([a-z.]+)`");
        for (String line : Files.readAllLines(METRICS_DOC)) {
            Matcher r = row.matcher(line);
            if (!r.find()) {
                continue;
            }
            String type = r.group(2).strip();
            String suffix = switch (type) {
                case "counter" -> "_total";
                case "gauge" -> "";
                case "timer" -> "_seconds_count";
                case "time gauge" -> "_seconds";
                default -> throw new AssertionError("unknown meter type '" + type + "' in: " + line);
            };
            String previous = null;
            Matcher n = name.matcher(r.group(1));
            while (n.find()) {
                String meter = n.group(1);
                if (meter.startsWith(".")) {
                    meter = previous.substring(0, previous.lastIndexOf('.')) + meter;
                }
                previous = meter;
                names.add(meter.replace('.', '_') + suffix);
            }
        }
        return names;
    }

    /** The value of the first sample line of {@code name} whose labels contain every one of {@code labels}. */
    private static double sample(String text, String name, Map<String, String> labels) {
        for (String line : text.split("\n")) {
            if (!line.startsWith(name + "{")) {
                continue;
            }
            boolean all = labels.entrySet().stream().allMatch(e -> line.contains(e.getKey() + "=\"" + e.getValue() + "\""));
            if (all) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return Double.NaN;
    }

    @Test
    void everyDashboardMetricIsExportedAndACrashShows() throws Exception {
        String cluster = TestNodes.clusterName();
        ClusterNode a = start(cluster, 1, null);
        String seed = "127.0.0.1:" + a.gossipAddress().getPort();
        ClusterNode b = start(cluster, 2, seed);
        ClusterNode c = start(cluster, 3, seed);
        await().atMost(WAIT).until(() -> b.leader().map(l -> l.id().equals(a.id())).orElse(false)
                && c.leader().map(l -> l.id().equals(a.id())).orElse(false));
        for (ClusterNode n : nodes) {
            n.registerHandler("ping", in -> { });
        }
        for (int i = 0; i < 20; i++) {
            a.send(ClusterMessage.reliable("ping", new byte[] {1}).waitingForAll(true)).get();
            b.send(ClusterMessage.reliable("ping", new byte[] {2})).get();
        }
        a.jobs().registerJobHandler("noop", 1, ctx -> { });
        a.jobs().submitJob("noop", Map.of());
        await().atMost(WAIT).until(() -> a.jobs().stats().succeeded() == 1);

        System.gc();  // Micrometer holds function counters' sources weakly: they must survive a collection
        Set<String> wanted = dashboardMetrics();
        assertThat(wanted).hasSizeGreaterThan(20);
        await().atMost(WAIT).untilAsserted(() -> {
            String text = scrape(a);
            Set<String> missing = new TreeSet<>();
            for (String name : wanted) {
                if (!Pattern.compile("(?m)^" + name + "[{ ]").matcher(text).find()) {
                    missing.add(name);
                }
            }
            assertThat(missing).as("dashboard metrics missing from the scrape").isEmpty();
        });
        Set<String> documented = documentedMetrics();
        assertThat(documented).hasSizeGreaterThan(60).contains("ha_clock_offset_seconds",
                "ha_messaging_ack_latency_seconds_count", "hikaricp_connections_acquire_seconds_count");
        await().atMost(WAIT).untilAsserted(() -> {
            String text = scrape(a);
            Set<String> missing = new TreeSet<>();
            for (String name : documented) {
                if (!Pattern.compile("(?m)^" + name + "[{ ]").matcher(text).find()) {
                    missing.add(name);
                }
            }
            assertThat(missing).as("documented metrics missing from the scrape").isEmpty();
        });
        String full = scrape(a);
        assertThat(sample(full, "ha_gossip_probes_total", Map.of())).isPositive();
        assertThat(sample(full, "ha_gossip_bytes_received_total", Map.of())).isPositive();
        assertThat(sample(full, "ha_gossip_bytes_sent_total", Map.of())).isPositive();
        assertThat(sample(full, "ha_messaging_ack_latency_seconds_count", Map.of())).isGreaterThanOrEqualTo(40);
        assertThat(sample(full, "ha_messaging_ack_latency_seconds_bucket", Map.of("le", "+Inf")))
                .isGreaterThanOrEqualTo(40);
        assertThat(sample(full, "ha_election_lease_renew_seconds", Map.of("quantile", "0.99"))).isPositive();
        assertThat(sample(full, "ha_messaging_handler_time_seconds_count", Map.of("event", "ping", "outcome", "success")))
                .isGreaterThanOrEqualTo(20);
        assertThat(sample(full, "ha_election_lease_renew_seconds_count", Map.of())).isPositive();
        assertThat(Math.abs(sample(full, "ha_clock_offset_seconds", Map.of("peer", b.id())))).isLessThan(0.05);
        assertThat(sample(full, "hikaricp_connections", Map.of())).isPositive();
        String before = scrape(b);
        assertThat(sample(before, "ha_gossip_members", Map.of("state", "alive"))).isEqualTo(3);
        assertThat(sample(before, "ha_election_leader", Map.of())).isZero();
        assertThat(sample(scrape(a), "ha_election_leader", Map.of())).isEqualTo(1);
        assertThat(sample(scrape(a), "ha_jobs_attempts_total", Map.of("outcome", "success"))).isEqualTo(1);
        assertThat(sample(scrape(a), "ha_messaging_sent_total", Map.of())).isGreaterThanOrEqualTo(20);
        double closedBefore = sample(before, "ha_messaging_connections_closed_total", Map.of("cause", "any"));

        c.haltForTests();
        await().atMost(WAIT).untilAsserted(() -> {
            String after = scrape(b);
            assertThat(sample(after, "ha_gossip_members", Map.of("state", "dead"))).isEqualTo(1);
            assertThat(sample(after, "ha_gossip_members", Map.of("state", "alive"))).isEqualTo(2);
            assertThat(sample(after, "ha_messaging_connections_closed_total", Map.of("cause", "any")))
                    .isGreaterThan(closedBefore);
            assertThat(sample(after, "ha_messaging_peers_connected", Map.of())).isEqualTo(1);
        });
    }
}
