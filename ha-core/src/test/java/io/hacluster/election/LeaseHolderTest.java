package io.hacluster.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hacluster.discovery.ConnectionSource;
import io.hacluster.testkit.PostgresTopology;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The holder's self-demotion, on a monotonic clock the test moves, against the real lease in a
 * real PostgreSQL server. The lease in the database is long (15 s) unless a test says otherwise,
 * so only the local clock decides.
 */
class LeaseHolderTest {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    private static final AtomicInteger CLUSTERS = new AtomicInteger();

    private static PostgresTopology pg;

    /** A clock only the test moves; starts far from 0 so overflow-safe comparisons matter. */
    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - 5 * NANOS_PER_SECOND);
    private final MonotonicClock clock = now::get;

    /** The database as the holder reaches it: can be made unreachable, and can take time. */
    private volatile boolean unreachable;
    private volatile long openTakesNanos;
    private final ConnectionSource database = () -> {
        now.addAndGet(openTakesNanos);
        if (unreachable) {
            throw new SQLException("connection refused (test: database unreachable)", "08001");
        }
        return pg.primary().connect();
    };

    @BeforeAll
    static void startPostgres() throws SQLException {
        pg = PostgresTopology.start(0);
        new LeaseStore(() -> pg.primary().connect()).createSchemaIfMissing();
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    private static String cluster() {
        return "holder-test-" + CLUSTERS.incrementAndGet();
    }

    private LeaseHolder holder(String cluster, String node, LeaseSettings settings) {
        return new LeaseHolder(new LeaseStore(database), cluster, node, settings, clock);
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    void holdsUntilTheRenewDeadlinePassesWithoutARenewalAndAgainAfterTheNextOne() throws Exception {
        LeaseHolder holder = holder(cluster(), "node-a", LeaseSettings.defaults());
        assertThat(holder.holds()).as("before any grant").isFalse();
        assertThat(holder.acquire(1)).isInstanceOf(AcquireOutcome.Granted.class);
        assertThat(holder.holds()).isTrue();
        long token = holder.token().orElseThrow();

        advance(Duration.ofSeconds(10).minusNanos(1));
        assertThat(holder.holds()).as("1 ns before the renew deadline").isTrue();
        advance(Duration.ofNanos(1));
        assertThat(holder.holds()).as("at the renew deadline, with no renewal").isFalse();
        assertThat(holder.token()).isEmpty();

        // The lease is still valid in the database (15 s, barely started in real time): renewing works.
        assertThat(holder.renew()).isTrue();
        assertThat(holder.holds()).isTrue();
        assertThat(holder.token()).hasValue(token);
    }

    @Test
    void anUnreachableDatabaseDemotesTheHolderAtTheRenewDeadline() throws Exception {
        LeaseHolder holder = holder(cluster(), "node-a", LeaseSettings.defaults());
        assertThat(holder.acquire(1)).isInstanceOf(AcquireOutcome.Granted.class);
        advance(Duration.ofSeconds(2));
        assertThat(holder.renew()).isTrue();

        unreachable = true;
        for (int retry = 0; retry < 4; retry++) {
            advance(Duration.ofSeconds(2));
            assertThatThrownBy(holder::renew).isInstanceOf(SQLException.class);
            assertThat(holder.holds()).as("%d s after the last renewal", 2 * (retry + 1)).isTrue();
        }
        advance(Duration.ofSeconds(2));
        assertThat(holder.holds()).as("10 s after the last renewal").isFalse();

        unreachable = false;
        assertThat(holder.renew()).isTrue();
        assertThat(holder.holds()).isTrue();
    }

    @Test
    void theDeadlineCountsFromWhenTheStatementWasSentNotWhenItsAnswerCame() throws Exception {
        LeaseHolder holder = holder(cluster(), "node-a", LeaseSettings.defaults());
        openTakesNanos = Duration.ofSeconds(3).toNanos();  // a slow connect, on the holder's clock
        assertThat(holder.acquire(1)).isInstanceOf(AcquireOutcome.Granted.class);
        openTakesNanos = 0;
        advance(Duration.ofSeconds(7).minusNanos(1));
        assertThat(holder.holds()).isTrue();
        advance(Duration.ofNanos(1));
        assertThat(holder.holds()).as("10 s after the acquire was sent, 7 s after it answered").isFalse();
    }

    @Test
    void aRenewalTheDatabaseRefusesDemotesAtOnce() throws Exception {
        String cluster = cluster();
        LeaseSettings oneSecond = new LeaseSettings(Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofMillis(100));
        LeaseHolder a = holder(cluster, "node-a", oneSecond);
        assertThat(a.acquire(1)).isInstanceOf(AcquireOutcome.Granted.class);
        LeaseStore store = new LeaseStore(() -> pg.primary().connect());
        // The test's clock stands still, so A still believes; the database lets the lease expire.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> !store.read(cluster).orElseThrow().held());
        assertThat(holder(cluster, "node-b", LeaseSettings.defaults()).acquire(2))
                .isInstanceOf(AcquireOutcome.Granted.class);
        assertThat(a.holds()).isTrue();

        assertThat(a.renew()).isFalse();
        assertThat(a.holds()).isFalse();
        assertThat(a.renew()).as("nothing left to renew").isFalse();
        assertThat(a.acquire(3)).isInstanceOf(AcquireOutcome.HeldByOther.class);
        assertThat(a.holds()).isFalse();
    }

    @Test
    void releasingStopsHoldingAtOnceAndLetsAnotherNodeTakeOver() throws Exception {
        String cluster = cluster();
        LeaseHolder a = holder(cluster, "node-a", LeaseSettings.defaults());
        LeaseHolder b = holder(cluster, "node-b", LeaseSettings.defaults());
        assertThat(a.acquire(1)).isInstanceOf(AcquireOutcome.Granted.class);
        assertThat(b.acquire(1)).isInstanceOf(AcquireOutcome.HeldByOther.class);
        assertThat(b.holds()).isFalse();
        long aToken = a.token().orElseThrow();

        a.release();
        assertThat(a.holds()).isFalse();
        assertThat(b.acquire(2)).isInstanceOf(AcquireOutcome.Granted.class);
        assertThat(b.holds()).isTrue();
        assertThat(b.token().orElseThrow()).isGreaterThan(aToken);
    }
}
