package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.hacluster.identity.NodeMeta;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ClusterStatusEvaluatorTest {

    private static PeerView peer(String id, String version, String hash, boolean reachable) {
        return new PeerView(new NodeMeta("c", id, version, "1", hash, "h-" + id, 8075), "127.0.0.1", reachable);
    }

    private static Map<String, Set<StatusReason>> reasons(List<ClusterInfo> infos) {
        return infos.stream().collect(Collectors.toMap(ClusterInfo::id, ClusterInfo::reasons));
    }

    @Test
    void allAgreeingIsAllGreen() {
        List<ClusterInfo> infos = ClusterStatusEvaluator.evaluate(List.of(
                peer("b", "1.2.0", "x", true), peer("a", "1.2.3", "x", true), peer("c", "1.2.1", "x", true)));
        assertThat(infos).extracting(ClusterInfo::id).containsExactly("a", "b", "c");
        assertThat(infos).allMatch(i -> i.status() == NodeStatus.GREEN && i.reasons().isEmpty());
    }

    @Test
    void theOddOneOutIsRedWhicheverNodeEvaluates() {
        List<PeerView> view = new ArrayList<>(List.of(
                peer("a", "1.2.0", "x", true), peer("b", "1.3.0", "x", true), peer("c", "1.2.0", "y", true)));
        // Every node has the same membership, in whatever order its gossip lists it.
        for (int seed = 0; seed < 6; seed++) {
            Collections.shuffle(view, new Random(seed));
            Map<String, Set<StatusReason>> r = reasons(ClusterStatusEvaluator.evaluate(view));
            assertThat(r).containsEntry("a", Set.of())
                    .containsEntry("b", Set.of(StatusReason.VERSION_MISMATCH))
                    .containsEntry("c", Set.of(StatusReason.CONFIG_HASH_MISMATCH));
        }
    }

    @Test
    void aTieGoesToTheLowestIdsValue() {
        Map<String, Set<StatusReason>> r = reasons(ClusterStatusEvaluator.evaluate(List.of(
                peer("m", "1.0", "new", true), peer("k", "1.0", "old", true))));
        assertThat(r).containsEntry("k", Set.of()).containsEntry("m", Set.of(StatusReason.CONFIG_HASH_MISMATCH));
    }

    @Test
    void unreachableNodesAreRedAndDoNotVoteOnTheReference() {
        List<ClusterInfo> infos = ClusterStatusEvaluator.evaluate(List.of(
                peer("a", "1.0", "old", false), peer("b", "1.0", "old", false), peer("c", "1.0", "new", true)));
        Map<String, Set<StatusReason>> r = reasons(infos);
        assertThat(r.get("c")).isEmpty();
        assertThat(r.get("a")).containsExactlyInAnyOrder(StatusReason.UNREACHABLE, StatusReason.CONFIG_HASH_MISMATCH);
        assertThat(infos).filteredOn(i -> !i.id().equals("c")).allMatch(i -> i.status() == NodeStatus.RED);
    }

    @Test
    void severalReasonsAtOnce() {
        Map<String, Set<StatusReason>> r = reasons(ClusterStatusEvaluator.evaluate(List.of(
                peer("a", "2.0", "x", true), peer("b", "2.0", "x", true), peer("c", "3.0", "y", false))));
        assertThat(r.get("c")).containsExactlyInAnyOrder(StatusReason.UNREACHABLE,
                StatusReason.VERSION_MISMATCH, StatusReason.CONFIG_HASH_MISMATCH);
    }
}
