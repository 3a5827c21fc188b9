package io.hacluster.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * {@link Messenger#onAbruptPeerLoss}: a peer whose connection ends from its side without a
 * GOODBYE is reported with its streaming address; a graceful close, this node's own cut, and this
 * node's own closing are not.
 */
class AbruptPeerLossTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private static List<Map.Entry<String, InetSocketAddress>> listen(Messenger m) {
        List<Map.Entry<String, InetSocketAddress>> heard = new CopyOnWriteArrayList<>();
        m.onAbruptPeerLoss((id, address) -> heard.add(Map.entry(id, address)));
        return heard;
    }

    private static void awaitConnected(Messenger a, Messenger b) {
        await().atMost(WAIT).until(() -> a.connectedPeers().contains(b.nodeId()) && b.connectedPeers().contains(a.nodeId()));
    }

    @Test
    void aPeerThatStopsWithoutGoodbyeIsReportedWithItsStreamingAddress() {
        try (Nodes nodes = Nodes.start(2, b -> b)) {
            Messenger a = nodes.get(0);
            Messenger b = nodes.get(1);
            awaitConnected(a, b);
            List<Map.Entry<String, InetSocketAddress>> heard = listen(a);
            InetSocketAddress bAddress = b.localAddress();
            b.closeAbruptly();
            await().atMost(WAIT).until(() -> !heard.isEmpty());
            assertThat(heard.get(0)).isEqualTo(Map.entry("node-b", bAddress));
        }
    }

    @Test
    void aGracefulCloseIsNotReported() {
        try (Nodes nodes = Nodes.start(2, b -> b)) {
            Messenger a = nodes.get(0);
            Messenger b = nodes.get(1);
            awaitConnected(a, b);
            List<Map.Entry<String, InetSocketAddress>> heard = listen(a);
            b.close();  // GOODBYE first
            await().atMost(WAIT).until(() -> a.connectedPeers().isEmpty());
            await().during(Duration.ofMillis(300)).atMost(WAIT).until(heard::isEmpty);
        }
    }

    @Test
    void neitherThisNodesOwnCutNorItsOwnCloseIsReported() {
        try (Nodes nodes = Nodes.start(2, b -> b)) {
            Messenger a = nodes.get(0);
            Messenger b = nodes.get(1);
            awaitConnected(a, b);
            List<Map.Entry<String, InetSocketAddress>> heardByA = listen(a);
            a.faults().cut("node-b");
            await().atMost(WAIT).until(() -> !a.connectedPeers().contains("node-b"));
            a.faults().restore("node-b");
            awaitConnected(a, b);
            a.close();
            await().during(Duration.ofMillis(300)).atMost(WAIT).until(heardByA::isEmpty);
        }
    }
}
