package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** CLOCK_SKEW: the same verdict on every node, each measuring from its own clock. */
class ClockSkewCheckTest {

    private static ClockOffset off(double millis, double delay) {
        return new ClockOffset(millis, delay, 0, 8);
    }

    private static ClockOffset self() {
        return ClockOffset.local(0);
    }

    private static PeerView peer(String id, boolean reachable) {
        return new PeerView(new io.hacluster.identity.NodeMeta("c", id, "1.0.0", "1", "x", "h-" + id, 8075),
                "127.0.0.1", reachable);
    }

    private static Set<String> red(Map<String, ClockOffset> clocks, List<PeerView> views) {
        return ClusterStatusEvaluator.evaluate(views, clocks, 1000).stream()
                .filter(i -> i.reasons().contains(StatusReason.CLOCK_SKEW)).map(ClusterInfo::id)
                .collect(Collectors.toSet());
    }

    @Test
    void oneClockTwoSecondsAheadIsSkewedFromEveryNodesView() {
        List<PeerView> views = List.of(peer("a", true), peer("b", true), peer("c", true));
        // c's clock is 2 s ahead; each node measures from its own clock
        assertThat(red(Map.of("a", self(), "b", off(3, 0.4), "c", off(2001, 0.4)), views)).containsExactly("c");
        assertThat(red(Map.of("a", off(-3, 0.4), "b", self(), "c", off(1998, 0.4)), views)).containsExactly("c");
        assertThat(red(Map.of("a", off(-2001, 0.4), "b", off(-1998, 0.4), "c", self()), views)).containsExactly("c");
    }

    @Test
    void twoDisagreeingNodesMarkTheHigherIdOnBoth() {
        List<PeerView> views = List.of(peer("a", true), peer("b", true));
        assertThat(red(Map.of("a", self(), "b", off(5000, 1)), views)).containsExactly("b");
        assertThat(red(Map.of("a", off(-5000, 1), "b", self()), views)).containsExactly("b");
    }

    @Test
    void anOffsetWithinTheUncertaintyIsNotSkew() {
        List<PeerView> views = List.of(peer("a", true), peer("b", true), peer("c", true));
        // 1.2 s apart but measured over a 600 ms round trip: it may be 0.9 s, so not surely past 1 s
        assertThat(red(Map.of("a", self(), "b", off(0, 1), "c", off(1200, 600)), views)).isEmpty();
        assertThat(red(Map.of("a", self(), "b", off(0, 1), "c", off(1200, 100)), views)).containsExactly("c");
    }

    @Test
    void nodesWithoutAnEstimateOrUnreachableTakeNoPart() {
        List<PeerView> views = List.of(peer("a", true), peer("b", true), peer("c", false));
        Map<String, ClockOffset> clocks = Map.of("a", self(), "c", off(9000, 1));
        List<ClusterInfo> infos = ClusterStatusEvaluator.evaluate(views, clocks, 1000);
        assertThat(infos).allSatisfy(i -> assertThat(i.reasons()).doesNotContain(StatusReason.CLOCK_SKEW));
        assertThat(infos.get(1).clock()).isNull();
        assertThat(infos.get(2).clock().offsetMillis()).isEqualTo(9000);
        assertThat(infos.get(2).reasons()).containsExactly(StatusReason.UNREACHABLE);
    }
}
