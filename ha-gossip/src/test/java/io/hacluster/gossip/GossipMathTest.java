package io.hacluster.gossip;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** memberlist's scaling formulas, checked against the values its own tests expect. */
class GossipMathTest {

    @Test
    void suspicionTimeoutScalesWithLog10OfClusterSize() {
        // memberlist util_test.go TestSuspicionTimeout: suspicionTimeout(3, n, 1s) / 3
        Map<Integer, Duration> expected = Map.of(
                5, Duration.ofMillis(1000), 10, Duration.ofMillis(1000), 50, Duration.ofMillis(1698),
                100, Duration.ofMillis(2000), 500, Duration.ofMillis(2698), 1000, Duration.ofMillis(3000));
        expected.forEach((n, d) ->
                assertThat(GossipMath.suspicionTimeout(3, n, Duration.ofSeconds(1)).dividedBy(3)).as("n=" + n).isEqualTo(d));
    }

    @Test
    void lanPresetGivesTheDocumentedMinimumAndMaximum() {
        GossipConfig lan = GossipConfig.lan("x");
        Object[][] table = {{10, 4, 24}, {100, 8, 48}, {1000, 12, 72}, {10000, 16, 96}};
        for (Object[] row : table) {
            Duration min = GossipMath.suspicionTimeout(lan.suspicionMult(), (int) row[0], lan.probeInterval());
            assertThat(min).isEqualTo(Duration.ofSeconds((int) row[1]));
            assertThat(min.multipliedBy(lan.suspicionMaxTimeoutMult())).isEqualTo(Duration.ofSeconds((int) row[2]));
        }
        assertThat(GossipMath.suspicionTimeout(4, 0, Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(4));
    }

    @Test
    void retransmitLimitIsMultTimesCeilLog10OfNPlusOne() {
        // memberlist util_test.go TestRetransmitLimit
        assertThat(GossipMath.retransmitLimit(3, 0)).isZero();
        assertThat(GossipMath.retransmitLimit(3, 1)).isEqualTo(3);
        assertThat(GossipMath.retransmitLimit(3, 99)).isEqualTo(6);
        assertThat(GossipMath.retransmitLimit(4, 100)).isEqualTo(12);
        assertThat(GossipMath.retransmitLimit(4, 1000)).isEqualTo(16);
    }

    @Test
    void pushPullScaleStepsAboveThirtyTwoNodes() {
        // memberlist util_test.go TestPushPullScale
        Duration sec = Duration.ofSeconds(1);
        for (int i = 0; i <= 32; i++) {
            assertThat(GossipMath.pushPullScale(sec, i)).isEqualTo(sec);
        }
        for (int i = 33; i <= 64; i++) {
            assertThat(GossipMath.pushPullScale(sec, i)).isEqualTo(sec.multipliedBy(2));
        }
        for (int i = 65; i <= 128; i++) {
            assertThat(GossipMath.pushPullScale(sec, i)).isEqualTo(sec.multipliedBy(3));
        }
        assertThat(GossipMath.pushPullScale(Duration.ofSeconds(30), 1000)).isEqualTo(Duration.ofSeconds(180));
    }

    @Test
    void remainingSuspicionTimeMatchesMemberlist() {
        // memberlist suspicion_test.go TestSuspicion_remainingSuspicionTime
        Duration min = Duration.ofSeconds(2);
        Duration max = Duration.ofSeconds(30);
        long[][] cases = {{0, 3, 0, 30_000}, {1, 3, 2_000, 14_000}, {2, 3, 3_000, 4_810}, {3, 3, 4_000, -2_000},
                {4, 3, 5_000, -3_000}, {5, 3, 10_000, -8_000}};
        for (long[] c : cases) {
            assertThat(GossipMath.remainingSuspicionTime((int) c[0], (int) c[1], Duration.ofMillis(c[2]), min, max))
                    .as("n=%d k=%d", c[0], c[1]).isEqualTo(Duration.ofMillis(c[3]));
        }
    }
}
