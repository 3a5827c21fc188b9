package io.hacluster.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

/**
 * Nothing is left running after a test that fails: runs a test class that crashes a node and
 * then fails on purpose, then checks from outside that every port the cluster and its database
 * used is free again and no thread of any of its nodes is alive.
 *
 * <p>In this JVM, not a child one: the check sees ports and threads, which covers what the
 * extension owns. The child-JVM form the issue asks for is not built yet.
 */
class HaClusterTeardownTest {

    private static final String RUN_PROPERTY = "ha.cluster.testkit.failOnPurpose";
    static final List<Integer> PORTS = new ArrayList<>();
    static final List<String> IDS = new ArrayList<>();
    static final List<Integer> DATABASE_PORTS = new ArrayList<>();

    @Test
    void aFailingTestLeavesNoNodeThreadPortOrDatabaseBehind() {
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        Launcher launcher = LauncherFactory.create();
        System.setProperty(RUN_PROPERTY, "true");
        try {
            launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(FailsOnPurpose.class))
                    .build(), summary);
        } finally {
            System.clearProperty(RUN_PROPERTY);
        }
        assertThat(summary.getSummary().getTestsFailedCount()).isEqualTo(1);
        assertThat(summary.getSummary().getFailures().get(0).getException()).hasMessageContaining("on purpose");
        assertThat(PORTS).hasSize(4);
        assertThat(DATABASE_PORTS).hasSize(1);

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(Thread.getAllStackTraces().keySet()
                .stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(name -> IDS.stream().anyMatch(name::contains))).isEmpty());
        for (int port : PORTS) {
            assertThat(tcpFree(port)).as("TCP port %d free", port).isTrue();
        }
        for (int port : PORTS.subList(0, 2)) {
            assertThat(udpFree(port)).as("UDP gossip port %d free", port).isTrue();
        }
        for (int port : DATABASE_PORTS) {
            assertThat(nothingListens(port)).as("PostgreSQL on %d stopped", port).isTrue();
        }
    }

    private static boolean tcpFree(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);  // a closed connection's TIME_WAIT does not mean a listener is left
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean udpFree(int port) {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
            return s.getLocalPort() == port;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean nothingListens(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** Run only by the test above (Surefire skips nested classes; the property guards -Dtest runs). */
    @EnabledIfSystemProperty(named = RUN_PROPERTY, matches = "true")
    @HaClusterTest(nodes = 2, database = true)
    static class FailsOnPurpose {

        @Test
        void crashesANodeAndFails(TestCluster cluster) {
            PORTS.addAll(cluster.ports());
            IDS.addAll(cluster.ids());
            DATABASE_PORTS.add(cluster.database().orElseThrow().primary().port());
            cluster.crash(1);
            throw new AssertionError("failing on purpose, with a crashed node");
        }
    }
}
