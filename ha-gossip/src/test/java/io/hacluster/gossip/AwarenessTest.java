package io.hacluster.gossip;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Lifeguard's local health multiplier, with memberlist's awareness_test.go sequence. */
class AwarenessTest {

    @Test
    void scoreSaturatesAndScalesTimeouts() {
        int[][] steps = {{0, 0, 1}, {-1, 0, 1}, {-10, 0, 1}, {1, 1, 2}, {-1, 0, 1}, {10, 7, 8}, {-1, 6, 7},
                {-1, 5, 6}, {-1, 4, 5}, {-1, 3, 4}, {-1, 2, 3}, {-1, 1, 2}, {-1, 0, 1}, {-1, 0, 1}};
        Awareness a = new Awareness(8);
        for (int[] s : steps) {
            a.applyDelta(s[0]);
            assertThat(a.score()).isEqualTo(s[1]);
            assertThat(a.scaleTimeout(Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(s[2]));
        }
    }

    @Test
    void maxOfOneNeverScales() {
        Awareness a = new Awareness(1);
        a.applyDelta(5);
        assertThat(a.score()).isZero();
        assertThat(a.scaleTimeout(Duration.ofMillis(500))).isEqualTo(Duration.ofMillis(500));
        assertThatThrownBy(() -> new Awareness(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
