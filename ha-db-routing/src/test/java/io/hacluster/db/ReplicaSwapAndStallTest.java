package io.hacluster.db;

import static io.hacluster.db.Pg.count;
import static io.hacluster.db.Pg.exec;
import static io.hacluster.db.Pg.port;
import static io.hacluster.db.Pg.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import io.hacluster.testkit.PostgresTopologyTest;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server behind a replica DSN is replaced, or stalls, while the router uses it. Each replica
 * DSN here points at a {@link TcpProxy}: re-pointing it is a moved VIP or DNS name, stalling it is
 * what a client sees of a SIGSTOPped server (sockets open, nothing answered).
 */
@PostgresTopologyTest(replicas = 2)
class ReplicaSwapAndStallTest {

    private static final Logger log = LoggerFactory.getLogger(ReplicaSwapAndStallTest.class);
    private static final int READERS = 4;
    private static final int MAX_READS_PER_THREAD = 200_000;

    @BeforeAll
    static void schema(PostgresTopology pg) throws SQLException {
        try (Connection c = pg.primary().connect()) {
            exec(c, "CREATE TABLE IF NOT EXISTS swapped (id bigint PRIMARY KEY)");
        }
        pg.awaitReplay(Duration.ofSeconds(30));
    }

    @Test
    void aTokenIsNeverServedByAnotherServerThatTookOverTheDsn(PostgresTopology pg) throws Exception {
        PostgresServer replica1 = pg.replicas().get(0);
        PostgresServer replica2 = pg.replicas().get(1);
        try (TcpProxy proxy = new TcpProxy(replica1.port())) {
            Dsn viaProxy = proxy.dsnFor(replica1.dsn(), replica1.port());
            // No lag limits: the standby that takes over stays in rotation, as one with a
            // recovery_min_apply_delay inside the limits would.
            RouterSettings s = settings(pg).replicas(List.of(viaProxy)).maxLagBytes(0).maxLagMillis(0).build();
            try (DatabaseRouter router = DatabaseRouter.start(s)) {
                pg.pauseReplay(replica2);
                try {
                    ConsistencyToken token;
                    try (Connection c = router.master()) {
                        exec(c, "INSERT INTO swapped VALUES (1)");
                        token = DatabaseRouter.consistencyToken(c);
                    }
                    // Once replica1 has replayed the token, a token read is served there: from then
                    // on the router knows replica1's DSN covers it.
                    await().atMost(Duration.ofSeconds(30)).until(() -> router.read(token, Pg::port) == replica1.port());

                    // The same DSN now reaches replica2, which has not replayed the token.
                    proxy.retarget(replica2.port());
                    List<String> stale = new ArrayList<>();
                    long windowEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    int reads = 0;
                    // Several monitor ticks (1 s) long: covers the replica's return to rotation.
                    while ((reads < 50 || System.nanoTime() - windowEnd < 0) && reads < 20_000) {
                        String servedBy = router.read(token, c -> {
                            boolean seen = count(c, "SELECT count(*) FROM swapped WHERE id = 1") == 1;
                            return (seen ? "saw the row on " : "missed the row on ") + port(c);
                        });
                        if (servedBy.startsWith("missed")) {
                            stale.add(servedBy);
                        }
                        reads++;
                    }
                    log.info("{} token reads after the swap, {} stale, metrics {}", reads, stale.size(), router.metrics());
                    assertThat(stale).as("token reads that missed their row, of " + reads).isEmpty();
                    // The swapped-in standby was in rotation: the reads could have gone there.
                    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                            assertThat(router.servers().get(1).state()).isEqualTo(ServerState.HEALTHY));
                    try (Connection c = router.replica()) {
                        assertThat(port(c)).isEqualTo(replica2.port());
                    }
                } finally {
                    pg.resumeReplay(replica2);
                }
                // Once the new server has replayed the token, it serves it.
                pg.awaitReplay(replica2, Duration.ofSeconds(30));
                await().atMost(Duration.ofSeconds(20)).until(() -> router.read(router.consistencyToken(), Pg::port)
                        == replica2.port());
            }
        }
    }

    @Test
    void readersOfAStalledReplicaMoveOnWhenTheMonitorMarksItDown(PostgresTopology pg) throws Exception {
        PostgresServer replica1 = pg.replicas().get(0);
        PostgresServer replica2 = pg.replicas().get(1);
        try (TcpProxy proxy = new TcpProxy(replica1.port())) {
            Dsn viaProxy = proxy.dsnFor(replica1.dsn(), replica1.port());
            // A long query timeout, so the socket timeout (longer still) cannot be what frees the
            // readers within this test's bounds.
            RouterSettings s = settings(pg).replicas(List.of(viaProxy, Pg.dsn(replica2)))
                    .queryTimeoutSeconds(60).healthCheckTimeoutMillis(1_000).build();
            try (DatabaseRouter router = DatabaseRouter.start(s)) {
                AtomicBoolean stop = new AtomicBoolean();
                AtomicLongArray readsByReader = new AtomicLongArray(READERS);
                AtomicLong onStalled = new AtomicLong();
                List<Throwable> failures = new CopyOnWriteArrayList<>();
                List<Thread> readers = new ArrayList<>();
                for (int t = 0; t < READERS; t++) {
                    int reader = t;
                    Thread thread = new Thread(() -> {
                        for (int i = 0; i < MAX_READS_PER_THREAD && !stop.get(); i++) {
                            try {
                                int served = router.read(Pg::port);
                                if (served == replica1.port()) {
                                    onStalled.incrementAndGet();
                                }
                                readsByReader.incrementAndGet(reader);
                            } catch (Throwable e) {
                                failures.add(e);
                            }
                        }
                    }, "ha-test-reader-" + t);
                    thread.setDaemon(true);
                    thread.start();
                    readers.add(thread);
                }
                try {
                    await().atMost(Duration.ofSeconds(20)).until(() -> onStalled.get() > 20);
                    proxy.stall(true);
                    long stalledAt = System.nanoTime();
                    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                            assertThat(router.servers().get(1).state()).isEqualTo(ServerState.DOWN));
                    long downAt = System.nanoTime();
                    long[] atDown = new long[READERS];
                    for (int t = 0; t < READERS; t++) {
                        atDown[t] = readsByReader.get(t);
                    }
                    // Every reader reads again soon after the mark, long before any socket timeout
                    // (70 s before the fix, 62 s after) could have freed one stuck on the stall.
                    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                        for (int t = 0; t < READERS; t++) {
                            assertThat(readsByReader.get(t)).as("reads of reader " + t).isGreaterThan(atDown[t] + 1);
                        }
                    });
                    log.info("stall: DOWN after {} ms, every reader going again {} ms after that; metrics {}",
                            TimeUnit.NANOSECONDS.toMillis(downAt - stalledAt),
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - downAt), router.metrics());
                    proxy.stall(false);
                    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                            assertThat(router.servers().get(1).state()).isEqualTo(ServerState.HEALTHY));
                } finally {
                    stop.set(true);
                    proxy.stall(false);
                    for (Thread reader : readers) {
                        reader.join(TimeUnit.SECONDS.toMillis(90));
                    }
                }
                assertThat(failures).as("reads that failed through the read helper").isEmpty();
            }
        }
    }
}
