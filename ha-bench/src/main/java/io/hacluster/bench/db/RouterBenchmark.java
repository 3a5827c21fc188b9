package io.hacluster.bench.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.hacluster.db.DatabaseRouter;
import io.hacluster.db.Dsn;
import io.hacluster.db.RouterSettings;
import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The cost of routing a read, on a real PostgreSQL primary with two streaming replicas:
 *
 * <ul>
 *   <li>{@code router*}: {@link DatabaseRouter#replica()} (round-robin over two replica pools);</li>
 *   <li>{@code hikari*}: one plain HikariCP pool on one replica, the floor;</li>
 *   <li>{@code multiHost*}: one HikariCP pool over a PgJDBC multi-host URL
 *       ({@code targetServerType=preferSecondary&loadBalanceHosts=true}), the usual alternative.</li>
 * </ul>
 *
 * {@code *Cycle} is borrow + close; {@code *Select1} adds a prepared {@code SELECT 1} and reading
 * its row. Every pool is fixed-size (no connection is opened while measuring) and the router's
 * query timeout is on, as in production.
 *
 * <p>{@code paired} ({@code pairedRouter} + {@code pairedHikari}) runs one router thread and one
 * raw-HikariCP thread at the same time, each on its own pool of the same replica: both see the same
 * machine load at the same moment, which separate forks on a shared machine do not. With
 * {@code -t 2}, {@code routerCycle} and {@code hikariCycle} each share one pool between two threads
 * on two busy cores; a fork then often drifts from about 115 to 200-450 ns/op, as much with the raw
 * pool as with the router (our guess: the threads start contending for the same pooled connections).
 * That spread is larger than the router's own cost, so compare them with {@code -t 1} or through
 * {@code paired}.
 *
 * <pre>
 * mvn -B -q -pl ha-bench exec:exec -Dexec.args="-cp %classpath org.openjdk.jmh.Main RouterBenchmark -t 2 -f 1 -wi 2 -i 3"
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
@Threads(2)
@Fork(1)
public class RouterBenchmark {

    private static final int POOL_SIZE = 4;

    /**
     * The router's QueryTimeout (a server-side statement_timeout on every connection); run with
     * {@code -p queryTimeoutSeconds=0,30} to see what the per-statement timer costs.
     */
    @Param({"30"})
    public int queryTimeoutSeconds;

    /**
     * How many of the two replicas the router spreads over. With 2, each benchmark thread
     * alternates between two servers (four busy backends on one machine, against two for the
     * single-pool baselines); {@code -p routerReplicas=1} compares like with like.
     */
    @Param({"2"})
    public int routerReplicas;

    private PostgresTopology pg;
    private DatabaseRouter router;
    private HikariDataSource hikari;
    private HikariDataSource multiHost;

    @Setup(Level.Trial)
    public void setUp() throws SQLException {
        pg = PostgresTopology.start(2);
        List<PostgresServer> replicas = pg.replicas();
        router = DatabaseRouter.start(RouterSettings.builder(Dsn.parse(pg.primary().dsn()))
                .name("bench")
                .replicas(replicas.subList(0, routerReplicas).stream().map(s -> Dsn.parse(s.dsn())).toList())
                .maxOpenConns(POOL_SIZE)
                .maxIdleConns(POOL_SIZE)
                .queryTimeoutSeconds(queryTimeoutSeconds)
                .build());
        PostgresServer first = replicas.get(0);
        hikari = pool("bench-hikari", first.jdbcUrl(), first);
        String hosts = replicas.stream().map(s -> s.host() + ":" + s.port())
                .reduce((a, b) -> a + "," + b).orElseThrow();
        multiHost = pool("bench-multihost", "jdbc:postgresql://" + hosts + "/" + first.database()
                + "?targetServerType=preferSecondary&loadBalanceHosts=true", first);
    }

    private static HikariDataSource pool(String name, String url, PostgresServer credentials) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setJdbcUrl(url);
        config.setUsername(credentials.user());
        config.setPassword(credentials.password());
        config.setMaximumPoolSize(POOL_SIZE);
        config.setMinimumIdle(POOL_SIZE);
        return new HikariDataSource(config);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (multiHost != null) {
            multiHost.close();
        }
        if (hikari != null) {
            hikari.close();
        }
        if (router != null) {
            router.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    @Benchmark
    public void routerCycle(Blackhole bh) throws SQLException {
        try (Connection c = router.replica()) {
            bh.consume(c);
        }
    }

    @Benchmark
    public void hikariCycle(Blackhole bh) throws SQLException {
        try (Connection c = hikari.getConnection()) {
            bh.consume(c);
        }
    }

    @Benchmark
    @Group("paired")
    @GroupThreads(1)
    public void pairedRouter(Blackhole bh) throws SQLException {
        try (Connection c = router.replica()) {
            bh.consume(c);
        }
    }

    @Benchmark
    @Group("paired")
    @GroupThreads(1)
    public void pairedHikari(Blackhole bh) throws SQLException {
        try (Connection c = hikari.getConnection()) {
            bh.consume(c);
        }
    }

    @Benchmark
    public void multiHostCycle(Blackhole bh) throws SQLException {
        try (Connection c = multiHost.getConnection()) {
            bh.consume(c);
        }
    }

    @Benchmark
    public int routerSelect1() throws SQLException {
        try (Connection c = router.replica()) {
            return select1(c);
        }
    }

    @Benchmark
    public int hikariSelect1() throws SQLException {
        try (Connection c = hikari.getConnection()) {
            return select1(c);
        }
    }

    @Benchmark
    public int multiHostSelect1() throws SQLException {
        try (Connection c = multiHost.getConnection()) {
            return select1(c);
        }
    }

    private static int select1(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
