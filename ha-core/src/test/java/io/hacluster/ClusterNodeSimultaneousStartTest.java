package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.config.SqlSettings;
import io.hacluster.testkit.PostgresTopology;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * App servers of a cluster are routinely started together: five ClusterNodes start at the same
 * instant against a database without the library's tables, round after round (20 by default,
 * {@code -Dha.test.simultaneousStartRounds=N}); every node starts, registers and sees the others.
 */
class ClusterNodeSimultaneousStartTest {

    private static final int NODES = 5;
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
    void fiveNodesStartingAtTheSameInstantAgainstAnEmptyDatabaseAllStart() throws Exception {
        int rounds = Integer.getInteger("ha.test.simultaneousStartRounds", 20);
        SqlSettings sql = SqlSettings.builder().dataSource(pg.primary().dsn()).maxOpenConns(2).maxIdleConns(1).build();
        ExecutorService pool = Executors.newFixedThreadPool(NODES);
        try {
            for (int round = 1; round <= rounds; round++) {
                try (Connection c = pg.primary().connect(); Statement st = c.createStatement()) {
                    st.execute("DROP TABLE IF EXISTS ClusterDiscovery");
                }
                String cluster = TestNodes.clusterName();
                List<ClusterNode> nodes = new ArrayList<>();
                for (int i = 0; i < NODES; i++) {
                    nodes.add(ClusterNode.builder().clusterSettings(TestNodes.settings(cluster, List.of()).build())
                            .sqlSettings(sql).joinTimeout(Duration.ofSeconds(5)).build());
                }
                try {
                    CyclicBarrier together = new CyclicBarrier(NODES);
                    List<Future<?>> starts = new ArrayList<>();
                    for (ClusterNode n : nodes) {
                        starts.add(pool.submit(() -> {
                            together.await(30, TimeUnit.SECONDS);
                            n.start();
                            return null;
                        }));
                    }
                    for (Future<?> f : starts) {
                        f.get(60, TimeUnit.SECONDS);  // a failed start surfaces here with its cause
                    }
                    assertThat(rows(cluster)).as("round %d: discovery rows", round).isEqualTo(NODES);
                    int r = round;
                    await("round " + r + ": all see all").atMost(Duration.ofSeconds(60)).until(() -> nodes.stream()
                            .allMatch(n -> n.members().stream().filter(m -> m.state() == MembershipState.ALIVE).count() == NODES));
                } finally {
                    nodes.forEach(ClusterNode::close);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static int rows(String cluster) throws Exception {
        try (Connection c = pg.primary().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM ClusterDiscovery WHERE ClusterName = '" + cluster + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
