package io.hacluster.testkit.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.ClusterMessage;
import io.hacluster.ClusterNode;
import io.hacluster.MembershipState;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** The worked example of docs/testkit.md, run as written (keep the two in step). */
@HaClusterTest(nodes = 3, customizer = "cache")
class CacheInvalidationExampleTest {
    static final Map<Integer, Map<String, String>> CACHES = new ConcurrentHashMap<>();

    static void cache(int index, ClusterNode node) {            // runs before every start of every node
        Map<String, String> cache = CACHES.computeIfAbsent(index, i -> new ConcurrentHashMap<>());
        cache.put("user:1", "cached");
        node.registerHandler("evict", m -> cache.remove(new String(m.message().data(), UTF_8)));
    }

    @Test
    void evictionsReachEveryNodeOnTheSenderSide(TestCluster cluster) throws Exception {
        cluster.partition(List.of(0, 1), List.of(2));
        cluster.awaitMember(2, MembershipState.DEAD);            // as nodes 0 and 1 see it
        cluster.node(0).send(ClusterMessage.reliable("evict", "user:1".getBytes(UTF_8))).get();
        await().until(() -> !CACHES.get(1).containsKey("user:1"));
        assertThat(CACHES.get(2)).containsKey("user:1");         // stale across the cut: resync on heal!
        cluster.heal();
        cluster.awaitConverged();

        CACHES.get(2).put("user:1", "cached");
        cluster.crash(1);
        cluster.awaitMember(1, MembershipState.DEAD);
        cluster.node(0).send(ClusterMessage.reliable("evict", "user:1".getBytes(UTF_8))).get();
        await().until(() -> !CACHES.get(2).containsKey("user:1"));  // the survivors still hear each other
    }
}
