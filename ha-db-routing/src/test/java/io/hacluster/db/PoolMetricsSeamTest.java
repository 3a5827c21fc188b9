package io.hacluster.db;

import static io.hacluster.db.Pg.settings;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.metrics.IMetricsTracker;
import com.zaxxer.hikari.metrics.MetricsTrackerFactory;
import com.zaxxer.hikari.metrics.PoolStats;
import io.hacluster.testkit.PostgresTopology;
import io.hacluster.testkit.PostgresTopologyTest;
import java.sql.Connection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * {@code RouterSettings.poolMetrics}: HikariCP's own metrics tracker reaches every pool the
 * router builds (master and replica), through Hikari's interface only, so ha-db-routing needs no
 * Micrometer; the pool names it reports carry no password; {@code toBuilder} keeps the factory.
 */
@PostgresTopologyTest(replicas = 1)
class PoolMetricsSeamTest {

    /** Counts borrows per pool, as Hikari reports them to a tracker. */
    private static final class CountingFactory implements MetricsTrackerFactory {
        final Map<String, AtomicLong> acquired = new ConcurrentHashMap<>();
        final Map<String, PoolStats> stats = new ConcurrentHashMap<>();

        @Override
        public IMetricsTracker create(String poolName, PoolStats poolStats) {
            AtomicLong n = acquired.computeIfAbsent(poolName, k -> new AtomicLong());
            stats.put(poolName, poolStats);
            return new IMetricsTracker() {
                @Override
                public void recordConnectionAcquiredNanos(long nanos) {
                    n.incrementAndGet();
                }
            };
        }
    }

    @Test
    void everyPoolReportsToTheFactory(PostgresTopology pg) throws Exception {
        CountingFactory factory = new CountingFactory();
        RouterSettings s = settings(pg).poolMetrics(factory).build();
        assertThat(s.toBuilder().build().poolMetrics()).isSameAs(factory);
        assertThat(s.toString()).contains("poolMetrics=CountingFactory");
        try (DatabaseRouter router = DatabaseRouter.start(s)) {
            for (int i = 0; i < 3; i++) {
                try (Connection c = router.master()) {
                    assertThat(c.isValid(2)).isTrue();
                }
                try (Connection c = router.replica()) {
                    assertThat(c.isValid(2)).isTrue();
                }
            }
            assertThat(factory.acquired).hasSize(2);
            assertThat(factory.acquired.keySet()).anySatisfy(name -> assertThat(name).contains("-db-master["))
                    .allSatisfy(name -> assertThat(name).startsWith("ha-test-db-")
                            .doesNotContain(pg.primary().password()));
            assertThat(factory.acquired.values()).allSatisfy(n -> assertThat(n.get()).isGreaterThanOrEqualTo(3));
            assertThat(factory.stats.values()).allSatisfy(st -> assertThat(st.getMaxConnections()).isEqualTo(6));
        }
    }
}
