package io.hacluster;

import io.hacluster.config.ClusterSettings;
import java.util.List;
import java.util.UUID;

/** Settings for ClusterNodes on 127.0.0.1 with fast gossip, for tests. */
final class TestNodes {

    private TestNodes() {
    }

    /** Live threads whose name carries {@code nodeId} (every thread a node starts does). */
    static List<String> threadsOf(String nodeId) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(name -> name.contains(nodeId))
                .toList();
    }

    static String clusterName() {
        return "t-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** One node's settings: loopback only, LOCAL gossip preset, 1 s discovery refresh. */
    static ClusterSettings.Builder settings(String clusterName, List<String> seeds) {
        return ClusterSettings.builder()
                .enable(true)
                .clusterName(clusterName)
                .overrideHostname("127.0.0.1")
                .bindAddress("127.0.0.1")
                .gossipPort(TestPorts.tcpAndUdp())
                .streamingPort(TestPorts.tcpAndUdp())
                .gossipPreset("local")
                .discoveryIntervalSeconds(1)
                .discoveryOfflineAfterSeconds(60)
                .seeds(seeds);
    }
}
