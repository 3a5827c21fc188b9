package io.hacluster.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs a test class that uses {@link PostgresTopologyTest} (one of its tests fails on purpose)
 * through the JUnit launcher, then checks what the extension promises: one topology shared by
 * the class, closed after it, failures or not, with no process or file left.
 */
class ExtensionLifecycleTest {

    static volatile boolean runByOuterTest;
    static final List<PostgresTopology> seen = new CopyOnWriteArrayList<>();
    static final List<Long> postmasterPids = new CopyOnWriteArrayList<>();

    @Test
    void topologyIsSharedByTheClassAndClosedAfterItEvenWhenATestFails() throws Exception {
        runByOuterTest = true;
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        try {
            Launcher launcher = LauncherFactory.create();
            launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(UsesTopology.class)).build(),
                    listener);
        } finally {
            runByOuterTest = false;
        }
        TestExecutionSummary summary = listener.getSummary();
        assertThat(summary.getTestsStartedCount()).isEqualTo(2);
        assertThat(summary.getTestsFailedCount()).isEqualTo(1);
        assertThat(summary.getFailures().get(0).getException()).hasMessageContaining("deliberate");

        // before-all, constructor twice (per-method instances), two test methods: one topology.
        assertThat(seen).hasSize(5);
        assertThat(seen.stream().distinct()).hasSize(1);
        EmbeddedPostgresTopology topology = (EmbeddedPostgresTopology) seen.get(0);
        assertThat(topology.replicas()).hasSize(1);

        assertThat(postmasterPids).hasSize(2).noneMatch(Postmasters::isAlive);
        Path directory = topology.directory();
        assertThat(directory).doesNotExist();
        assertThat(ChildJvmKillTest.processesMentioning(directory)).isEmpty();
    }

    @PostgresTopologyTest(replicas = 1)
    static class UsesTopology {

        UsesTopology(PostgresTopology pg) {
            seen.add(pg);
        }

        @BeforeAll
        static void before(PostgresTopology pg) {
            Assumptions.assumeTrue(runByOuterTest, "run only by ExtensionLifecycleTest");
            seen.add(pg);
            postmasterPids.addAll(((EmbeddedPostgresTopology) pg).postmasterPids());
        }

        @Test
        void passes(PostgresTopology pg) {
            seen.add(pg);
            assertThat(pg.primary().isRunning()).isTrue();
        }

        @Test
        void fails(PostgresTopology pg) {
            seen.add(pg);
            throw new AssertionError("deliberate failure");
        }
    }
}
