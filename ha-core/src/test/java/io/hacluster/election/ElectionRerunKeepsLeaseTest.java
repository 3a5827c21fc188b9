package io.hacluster.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.testkit.PostgresTopology;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Demonstrates a liveness gap: a candidate granted the lease at an epoch above its own runs again
 * above it (declare: grant.epoch() > epoch) while it holds the lease but has not declared
 * (won == null). An ELECTION from a lower id in that window stops it (onElection) without
 * releasing, since only a node that won releases (stepDown): the lower id waits for the whole
 * lease duration instead of the handover.
 */
class ElectionRerunKeepsLeaseTest {

    private static PostgresTopology pg;

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

    @Test
    void aCandidateThatHoldsTheLeaseReleasesItWhenALowerIdRuns() throws Exception {
        String cluster = "rerun-test";
        LeaseStore store = new LeaseStore(() -> pg.primary().connect(), Duration.ofSeconds(20));
        store.createSchemaIfMissing();
        AtomicReference<Election> ref = new AtomicReference<>();
        AtomicBoolean lowerRan = new AtomicBoolean();
        Election m = new Election("m", cluster, true, 0, LeaseSettings.defaults(), () -> pg.primary().connect(),
                (target, bytes) -> {
                    ElectionMessage msg = ElectionMessage.decode(bytes);
                    // m runs again above the grant's epoch: now "a", a lower id, runs above that
                    if (msg.kind() == ElectionMessage.Kind.ELECTION && msg.epoch() > 100 && lowerRan.compareAndSet(false, true)) {
                        ref.get().receive("a", ElectionMessage.election(200).encode());
                    }
                    return CompletableFuture.completedFuture(null);
                }, new CopyOnWriteArrayList<>());
        ref.set(m);
        try {
            m.prepare();  // persisted epoch 0
            // another node presents epoch 100 and lets the lease go: the row's epoch is now above m's next run
            AcquireOutcome x = store.acquire(cluster, "x", 100, Duration.ofSeconds(15));
            assertThat(store.release(cluster, "x", ((AcquireOutcome.Granted) x).grant().fencingToken())).isTrue();
            m.memberAlive("z", true);
            m.start();  // runs at 1, is granted with epoch 100, runs again at 101
            await().atMost(Duration.ofSeconds(10)).untilTrue(lowerRan);
            // the handover: "a" can take the lease at once (fails: m keeps it until it expires, 15 s)
            await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(100))
                    .until(() -> store.acquire(cluster, "a", 201, Duration.ofSeconds(15)) instanceof AcquireOutcome.Granted);
        } finally {
            m.close();
        }
    }
}
