package io.hacluster;

import io.hacluster.config.SqlSettings;
import io.hacluster.gossip.Keyring;
import io.hacluster.security.GossipKeyStore;
import io.hacluster.security.KeyringResponse;
import io.hacluster.testkit.PostgresTopology;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The gossip key kept in the database (Mattermost's way) on a real PostgreSQL: concurrent first
 * starts agree on one key, and ClusterNodes with encryption on and no configured key form an
 * encrypted cluster with it.
 */
class ClusterGossipKeyFromDatabaseTest {

    private static PostgresTopology pg;
    private final List<ClusterNode> nodes = new ArrayList<>();

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

    @AfterEach
    void closeNodes() {
        nodes.forEach(ClusterNode::close);
    }

    private static <T> List<T> together(int n, java.util.concurrent.Callable<T> task) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                futures.add(pool.submit(() -> {
                    go.await();
                    return task.call();
                }));
            }
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get(60, TimeUnit.SECONDS));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentFirstStartsAgreeOnOneKey() throws Exception {
        String cluster = TestNodes.clusterName();
        List<byte[]> keys = together(8, () -> new GossipKeyStore(pg.primary()::connect, cluster).loadOrCreate());
        Set<String> distinct = new HashSet<>();
        keys.forEach(k -> distinct.add(Keyring.encodeKey(k)));
        assertThat(distinct).hasSize(1);
        assertThat(keys.get(0)).hasSize(32);
        try (Connection c = pg.primary().connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM HaClusterSystems WHERE ClusterName = ?")) {
            ps.setString(1, cluster);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
        }
        // Another cluster in the same database gets its own key.
        assertThat(new GossipKeyStore(pg.primary()::connect, TestNodes.clusterName()).loadOrCreate())
                .isNotEqualTo(keys.get(0));
    }

    @Test
    void nodesWithoutAConfiguredKeyFormAnEncryptedClusterWithTheStoredKey() throws Exception {
        String cluster = TestNodes.clusterName();
        SqlSettings sql = SqlSettings.builder().dataSource(pg.primary().dsn()).maxOpenConns(4).maxIdleConns(1).build();
        for (int i = 0; i < 3; i++) {
            nodes.add(ClusterNode.builder()
                    .clusterSettings(TestNodes.settings(cluster, List.of()).enableExperimentalGossipEncryption(true).build())
                    .sqlSettings(sql)
                    .joinTimeout(Duration.ofSeconds(5))
                    .build());
        }
        together(3, new java.util.concurrent.Callable<Void>() {
            private final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();

            @Override
            public Void call() {
                nodes.get(next.getAndIncrement()).start();
                return null;
            }
        });
        await().atMost(Duration.ofSeconds(60)).until(() -> nodes.stream().allMatch(n ->
                n.members().stream().filter(m -> m.state() == MembershipState.ALIVE).count() == 3));
        byte[] stored = new GossipKeyStore(pg.primary()::connect, cluster).loadOrCreate();
        KeyringResponse listed = nodes.get(1).keyring().listKeys().get(60, TimeUnit.SECONDS);
        assertThat(listed.ok()).isTrue();
        assertThat(listed.primaryKeys()).containsOnlyKeys(Keyring.fingerprint(stored)).containsValue(3);
        for (ClusterNode n : nodes) {
            assertThat(n.gossipStats().encryptionDropped()).isZero();
        }

        // Rotate: the node that makes the new key primary everywhere also stores it, so a node
        // started afterwards reads the new key from the database and joins.
        String fresh = Keyring.encodeKey(Keyring.generateKey());
        assertThat(nodes.get(0).keyring().installKey(fresh).get(60, TimeUnit.SECONDS).ok()).isTrue();
        KeyringResponse use = nodes.get(0).keyring().useKey(fresh).get(60, TimeUnit.SECONDS);
        assertThat(use.ok()).as("use: %s", use).isTrue();
        assertThat(Keyring.encodeKey(new GossipKeyStore(pg.primary()::connect, cluster).loadOrCreate())).isEqualTo(fresh);
        assertThat(nodes.get(1).keyring().removeKey(Keyring.encodeKey(stored)).get(60, TimeUnit.SECONDS).ok()).isTrue();
        ClusterNode late = ClusterNode.builder()
                .clusterSettings(TestNodes.settings(cluster, List.of()).enableExperimentalGossipEncryption(true).build())
                .sqlSettings(sql)
                .joinTimeout(Duration.ofSeconds(5))
                .build();
        nodes.add(late);
        late.start();
        await().atMost(Duration.ofSeconds(60)).until(() -> nodes.stream().allMatch(n ->
                n.members().stream().filter(m -> m.state() == MembershipState.ALIVE).count() == 4));
        assertThat(late.keyring().local().keys()).hasSize(1);
        assertThat(Keyring.encodeKey(late.keyring().local().primaryKey())).isEqualTo(fresh);
    }

    @Test
    void encryptionWithNeitherKeyNorDatabaseRefusesToStart() {
        ClusterNode node = ClusterNode.builder()
                .clusterSettings(TestNodes.settings(TestNodes.clusterName(), List.of())
                        .enableExperimentalGossipEncryption(true).build())
                .build();
        nodes.add(node);
        assertThatThrownBy(node::start).isInstanceOf(ClusterStartException.class)
                .hasMessageContaining("GossipEncryptionKey");
    }
}
