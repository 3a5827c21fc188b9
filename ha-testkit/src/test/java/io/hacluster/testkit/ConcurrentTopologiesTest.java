package io.hacluster.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Test classes may run in parallel: topologies started at the same time must not share anything. */
class ConcurrentTopologiesTest {

    @Test
    void topologiesStartedConcurrentlyAreIndependent() throws Exception {
        AtomicInteger threads = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(2, task -> {
            Thread thread = new Thread(task, "ha-test-topology-starter-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        List<PostgresTopology> topologies = new ArrayList<>();
        List<Future<PostgresTopology>> starts = List.of(pool.submit(() -> PostgresTopology.start(1)),
                pool.submit(() -> PostgresTopology.start(1)));
        try {
            for (Future<PostgresTopology> start : starts) {
                topologies.add(start.get(180, TimeUnit.SECONDS));
            }
            PostgresTopology first = topologies.get(0);
            PostgresTopology second = topologies.get(1);

            Set<Integer> ports = new HashSet<>();
            topologies.forEach(t -> t.servers().forEach(s -> ports.add(s.port())));
            assertThat(ports).hasSize(4);
            assertThat(first.primary().password()).isNotEqualTo(second.primary().password());

            exec(first.primary(), "CREATE TABLE only_in_first (id int)");
            first.awaitReplay(Duration.ofSeconds(30));
            assertThat(tableExists(first.replicas().get(0), "only_in_first")).isTrue();
            assertThat(tableExists(second.primary(), "only_in_first")).isFalse();
            assertThat(tableExists(second.replicas().get(0), "only_in_first")).isFalse();
        } finally {
            pool.shutdown();
            pool.awaitTermination(180, TimeUnit.SECONDS);
            for (Future<PostgresTopology> start : starts) {
                if (start.isDone() && !start.isCancelled()) {
                    try {
                        start.get().close();
                    } catch (java.util.concurrent.ExecutionException failedToStart) {
                        // nothing to close
                    }
                }
            }
        }
    }

    private static void exec(PostgresServer server, String sql) throws Exception {
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static boolean tableExists(PostgresServer server, String table) throws Exception {
        try (Connection c = server.connect();
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT to_regclass('" + table + "') IS NOT NULL")) {
            r.next();
            return r.getBoolean(1);
        }
    }
}
