package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.hacluster.config.ClusterSettings;
import io.hacluster.config.HaConfig;
import io.hacluster.config.ReadOnlyConfigException;
import io.hacluster.config.SqlSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Configuration reload without a database: what each kind of change becomes, the config hash
 * that follows the configuration in force, ReadOnlyConfig changed live and honoured by save, a
 * node built without a file, a file that does not load, and a node that does not answer.
 */
class ClusterNodeReloadTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void closeAll() {
        nodes.forEach(ClusterNode::close);
    }

    private static HaConfig config(ClusterSettings cluster, boolean readOnly, int maxOpenConns, String logLevel)
            throws Exception {
        HaConfig.Builder b = HaConfig.builder()
                .clusterSettings(cluster.toBuilder().readOnlyConfig(readOnly).build())
                .sqlSettings(SqlSettings.builder().maxOpenConns(maxOpenConns).build());
        if (logLevel != null) {
            b.otherSection("LogSettings", JSON.readTree("{\"ConsoleLevel\": \"" + logLevel + "\"}"));
        }
        return b.build();
    }

    private ClusterNode start(ClusterNodeBuilder b) {
        ClusterNode n = b.joinTimeout(Duration.ofSeconds(10)).build();
        n.start();
        nodes.add(n);
        return n;
    }

    private static boolean seenAs(ClusterNode viewer, ClusterNode node, NodeStatus status) {
        return viewer.clusterInfos().stream().anyMatch(i -> i.id().equals(node.id()) && i.status() == status);
    }

    @Test
    void eachKindOfChangeIsAppliedOrReportedAndTheHashFollowsWhatIsInForce() throws Exception {
        String cluster = TestNodes.clusterName();
        ClusterSettings csA = TestNodes.settings(cluster, List.of()).build();
        Path fileA = dir.resolve("a.json");
        Files.writeString(fileA, config(csA, true, 300, null).toJson());
        ClusterNode a = start(ClusterNode.builder().configFile(fileA, Map.of()));
        String seed = "127.0.0.1:" + a.gossipAddress().getPort();
        ClusterSettings csB = TestNodes.settings(cluster, List.of(seed)).build();
        Path fileB = dir.resolve("b.json");
        Files.writeString(fileB, config(csB, true, 300, null).toJson());
        ClusterNode b = start(ClusterNode.builder().configFile(fileB, Map.of()));
        ClusterSettings csC = TestNodes.settings(cluster, List.of(seed)).build();
        ClusterNode c = start(ClusterNode.builder().config(config(csC, true, 300, null)));  // no file
        await().atMost(WAIT).until(() -> nodes.stream().allMatch(n -> n.clusterInfos().size() == 3
                && n.clusterInfos().stream().allMatch(i -> i.status() == NodeStatus.GREEN)));
        String initialHash = a.configHash();

        assertThatThrownBy(() -> a.registerHandler(NodeOperations.RELOAD_EVENT, in -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
        assertThatThrownBy(c::reloadConfig).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("without a configuration file");
        // The file is read-only while the configuration in force says so.
        assertThatThrownBy(() -> a.config().save(fileA)).isInstanceOf(ReadOnlyConfigException.class);

        // Nothing changed: nothing to do.
        ConfigReloadResult same = a.reloadConfig();
        assertThat(same.succeeded()).isTrue();
        assertThat(same.changes()).isEmpty();
        assertThat(same.configHashAfter()).isEqualTo(initialHash);

        // A file that does not load changes nothing.
        String good = Files.readString(fileA);
        Files.writeString(fileA, good.replace("\"PeerQueueSize\" : 10000", "\"PeerQueueSize\" : -1")
                .replace("\"PeerQueueSize\": 10000", "\"PeerQueueSize\": -1"));
        ConfigReloadResult invalid = a.reloadConfig();
        assertThat(invalid.succeeded()).isFalse();
        assertThat(invalid.error()).contains("PeerQueueSize");
        assertThat(invalid.changes()).isEmpty();
        assertThat(a.configHash()).isEqualTo(initialHash);

        // The operator edits A's file: ReadOnlyConfig off (live), a pool size (the node has no router,
        // so it needs a restart), the peer queue (restart) and the application's LogSettings.
        HaConfig edited = config(csA.toBuilder().peerQueueSize(500).build(), false, 200, "DEBUG");
        Files.writeString(fileA, edited.toJson());
        ConfigReloadResult r = a.reloadConfig();
        assertThat(r.succeeded()).as("%s", r).isTrue();
        assertThat(r.changes()).extracting(SettingChange::setting, SettingChange::status).containsExactly(
                org.assertj.core.groups.Tuple.tuple("ClusterSettings.ReadOnlyConfig", SettingChange.Status.APPLIED),
                org.assertj.core.groups.Tuple.tuple("ClusterSettings.PeerQueueSize", SettingChange.Status.RESTART_REQUIRED),
                org.assertj.core.groups.Tuple.tuple("SqlSettings.MaxOpenConns", SettingChange.Status.RESTART_REQUIRED),
                org.assertj.core.groups.Tuple.tuple("LogSettings", SettingChange.Status.NOT_USED));
        assertThat(r.changes().get(1).before()).isEqualTo("10000");
        assertThat(r.changes().get(1).after()).isEqualTo("500");
        assertThat(r.changes().get(3).before()).as("other sections' values are never shown").isNull();
        // In force: the file's ReadOnlyConfig and LogSettings, the running pool size and queue.
        HaConfig inForce = a.config();
        assertThat(inForce.clusterSettings().readOnlyConfig()).isFalse();
        assertThat(inForce.clusterSettings().peerQueueSize()).isEqualTo(10_000);
        assertThat(inForce.sqlSettings().maxOpenConns()).isEqualTo(300);
        assertThat(inForce.otherSections()).containsKey("LogSettings");
        String expectedHash = edited.withSqlSettings(SqlSettings.builder().maxOpenConns(300).build()).hash();
        assertThat(r.configHashAfter()).isEqualTo(expectedHash).isEqualTo(a.configHash()).isNotEqualTo(initialHash)
                .isNotEqualTo(HaConfig.load(fileA, Map.of()).hash());
        // The new hash reaches every node: A now runs another configuration than B and C.
        await().atMost(WAIT).until(() -> nodes.stream().allMatch(n -> seenAs(n, a, NodeStatus.RED)
                && seenAs(n, b, NodeStatus.GREEN)));
        assertThat(b.clusterInfos().stream().filter(i -> i.id().equals(a.id())).findFirst().orElseThrow().reasons())
                .containsExactly(StatusReason.CONFIG_HASH_MISMATCH);
        // ReadOnlyConfig is off now: the application may write the file.
        a.config().save(fileA);

        // B's file gets the same edit; asking everywhere from B: A has nothing left to do, B applies,
        // C has no file and says so.
        Files.writeString(fileB, config(csB.toBuilder().peerQueueSize(500).build(), false, 200, "DEBUG").toJson());
        ClusterWide<ConfigReloadResult> all = b.reloadConfigEverywhere(WAIT).get(60, TimeUnit.SECONDS);
        assertThat(all.nodes()).containsOnlyKeys(a.id(), b.id(), c.id());
        assertThat(all.nodes().get(a.id()).result().changes()).isEmpty();
        assertThat(all.nodes().get(b.id()).result().configHashAfter()).isEqualTo(expectedHash);
        assertThat(all.failures()).containsOnlyKeys(c.id());
        assertThat(all.failures().get(c.id())).contains("without a configuration file");
        // Two of three run the new configuration: now C is the odd one.
        await().atMost(WAIT).until(() -> nodes.stream().allMatch(n -> seenAs(n, c, NodeStatus.RED)
                && seenAs(n, a, NodeStatus.GREEN)));
        // C, built without a file, takes a configuration from the application.
        ConfigReloadResult fromCode = c.reloadConfig(config(csC, false, 300, "DEBUG"));
        assertThat(fromCode.configHashAfter()).isEqualTo(expectedHash);
        await().atMost(WAIT).until(() -> nodes.stream().allMatch(n -> n.clusterInfos().stream()
                .allMatch(i -> i.status() == NodeStatus.GREEN)));

        // A node that does not answer within the deadline has a failure entry; the others answer.
        c.haltForTests();
        ClusterWide<ConfigReloadResult> partial = a.reloadConfigEverywhere(Duration.ofSeconds(2))
                .get(60, TimeUnit.SECONDS);
        if (partial.nodes().containsKey(c.id())) {  // unless gossip already declared it dead
            assertThat(partial.nodes().get(c.id()).answered()).isFalse();
        }
        assertThat(partial.nodes().get(a.id()).answered()).isTrue();
        assertThat(partial.nodes().get(b.id()).answered()).isTrue();
    }
}
