package io.hacluster.db;

import static io.hacluster.db.Pg.exec;
import static io.hacluster.db.Pg.port;
import static io.hacluster.db.Pg.settings;
import static io.hacluster.db.Pg.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import io.hacluster.testkit.PostgresTopologyTest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A replica stopped and restarted under a multi-threaded read load. */
@PostgresTopologyTest(replicas = 2)
class ReplicaFailureTest {

    private static final Logger log = LoggerFactory.getLogger(ReplicaFailureTest.class);
    private static final int READERS = 4;
    /** Per reader; the loop also stops when the test says so. Bounds the test if anything hangs. */
    private static final int MAX_READS_PER_THREAD = 200_000;

    @Test
    void stoppedReplicaCostsNoReadAndComesBack(PostgresTopology pg) throws Exception {
        PostgresServer replica1 = pg.replicas().get(0);
        PostgresServer replica2 = pg.replicas().get(1);
        try (Connection c = pg.primary().connect()) {
            exec(c, "CREATE TABLE IF NOT EXISTS items AS SELECT g AS id FROM generate_series(1, 100) g");
        }
        pg.awaitReplay(Duration.ofSeconds(30));

        try (DatabaseRouter router = DatabaseRouter.start(settings(pg).build())) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong reads = new AtomicLong();
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            Map<Integer, AtomicLong> byPort = new ConcurrentHashMap<>();
            List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < READERS; t++) {
                Thread reader = new Thread(() -> {
                    for (int i = 0; i < MAX_READS_PER_THREAD && !stop.get(); i++) {
                        try {
                            int served = router.read(c -> {
                                try (Statement st = c.createStatement();
                                     ResultSet rs = st.executeQuery("SELECT count(*), inet_server_port() FROM items")) {
                                    rs.next();
                                    if (rs.getLong(1) != 100) {
                                        throw new AssertionError("wrong count " + rs.getLong(1));
                                    }
                                    return rs.getInt(2);
                                }
                            });
                            byPort.computeIfAbsent(served, p -> new AtomicLong()).incrementAndGet();
                            reads.incrementAndGet();
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }
                }, "ha-test-reader-" + t);
                reader.setDaemon(true);
                reader.start();
                readers.add(reader);
            }
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> reads.get() > 200);

                long stoppedAt = System.nanoTime();
                replica1.stop();
                await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                        assertThat(status(router, replica1).state()).isEqualTo(ServerState.DOWN));
                log.info("replica1 out of rotation {} ms after its stop returned ({}: {})",
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt),
                        status(router, replica1).state(), status(router, replica1).reason());
                long replica2Before = byPort.get(replica2.port()).get();
                long readsBefore = reads.get();
                await().atMost(Duration.ofSeconds(20)).until(() -> reads.get() > readsBefore + 200);
                // While it is out, reads go on; none of them could have run on the stopped server.
                assertThat(byPort.get(replica2.port()).get()).isGreaterThan(replica2Before);

                replica1.start();
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThat(status(router, replica1).state()).isEqualTo(ServerState.HEALTHY));
                long replica1Back = byPort.get(replica1.port()).get();
                await().atMost(Duration.ofSeconds(20)).until(() -> byPort.get(replica1.port()).get() > replica1Back + 50);
            } finally {
                stop.set(true);
                for (Thread reader : readers) {
                    reader.join(TimeUnit.SECONDS.toMillis(30));
                }
            }
            log.info("reads {} by port {}, metrics {}", reads.get(), byPort, router.metrics());
            assertThat(failures).as("reads that failed through the read helper").isEmpty();
            assertThat(router.metrics().markedDown() + router.metrics().readRetries()).isPositive();
            try (Connection c = router.replica()) {
                assertThat(port(c)).isIn(replica1.port(), replica2.port());
            }
        }
    }

    @Test
    void monitorTakesAnIdleReplicaOutAndAFailedBorrowDoesSoWithoutWaitingForATick(PostgresTopology pg)
            throws Exception {
        PostgresServer replica1 = pg.replicas().get(0);
        PostgresServer replica2 = pg.replicas().get(1);
        try (DatabaseRouter monitored = DatabaseRouter.start(settings(pg).monitorIntervalSeconds(1).build());
             DatabaseRouter noTicks = DatabaseRouter.start(settings(pg).monitorIntervalSeconds(3600).build())) {
            replica1.stop();
            try {
                // No traffic on this router: only the monitor can notice.
                await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                        assertThat(status(monitored, replica1).state()).isEqualTo(ServerState.DOWN));
                assertThat(status(monitored, replica1).reason()).doesNotContain("in use");

                // This router's monitor will not tick during the test: the failed borrow itself must do it.
                assertThat(status(noTicks, replica1).state()).isEqualTo(ServerState.HEALTHY);
                for (int i = 0; i < 2; i++) {
                    assertThat(noTicks.read(Pg::port)).isEqualTo(replica2.port());
                }
                assertThat(status(noTicks, replica1).state()).isEqualTo(ServerState.DOWN);
                assertThat(status(noTicks, replica1).reason()).contains("in use");
                assertThat(noTicks.metrics().markedDown()).isEqualTo(1);
            } finally {
                replica1.start();
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(status(monitored, replica1).state()).isEqualTo(ServerState.HEALTHY));
        }
    }

    @Test
    void oneTimedOutHealthCheckIsForgivenTwoTakeTheReplicaOut(PostgresTopology pg) throws Exception {
        PostgresServer replica1 = pg.replicas().get(0);
        try (TcpProxy proxy = new TcpProxy(replica1.port())) {
            Dsn viaProxy = Dsn.parse(replica1.dsn().replace(":" + replica1.port() + "/", ":" + proxy.port() + "/"));
            long checkTimeoutMillis = 1_000;
            RouterSettings s = settings(pg).replicas(List.of(viaProxy)).monitorIntervalSeconds(1)
                    .healthCheckTimeoutMillis(checkTimeoutMillis).build();
            try (DatabaseRouter router = DatabaseRouter.start(s)) {
                assertThat(router.servers().get(1).state()).isEqualTo(ServerState.HEALTHY);
                proxy.silent(true);
                long silentAt = System.nanoTime();
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThat(router.servers().get(1).state()).isEqualTo(ServerState.DOWN));
                long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - silentAt);
                // A lower bound, so a slow machine cannot break it: each check that starts after
                // the proxy went silent lasts at least the check timeout, and it took two of them.
                assertThat(elapsedMillis).isGreaterThanOrEqualTo(2 * checkTimeoutMillis);
                assertThat(router.servers().get(1).reason()).contains("timed out");
                proxy.silent(false);
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThat(router.servers().get(1).state()).isEqualTo(ServerState.HEALTHY));
            }
        }
    }
}
