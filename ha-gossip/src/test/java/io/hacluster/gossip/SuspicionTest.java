package io.hacluster.gossip;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The suspicion timer in virtual time, with memberlist's TestSuspicion_Timer cases. */
class SuspicionTest {

    private static final Duration MIN = Duration.ofMillis(500);
    private static final Duration MAX = Duration.ofSeconds(2);

    /** Starts a suspicion from "me" with k=3, confirms from each name at t=0, returns the fire time. */
    private static Duration fireTime(int k, String[] confirmers, boolean[] expectedNew) {
        SimulatedNetwork net = new SimulatedNetwork(1);
        Scheduler s = net.addNode("n").scheduler();
        List<Long> fired = new ArrayList<>();
        Suspicion susp = new Suspicion(s, "me", k, MIN, MAX, () -> fired.add(net.nanoTime()));
        for (int i = 0; i < confirmers.length; i++) {
            assertThat(susp.confirm(confirmers[i])).as(confirmers[i]).isEqualTo(expectedNew[i]);
        }
        net.runFor(Duration.ofSeconds(10));
        assertThat(fired).hasSize(1);
        return Duration.ofNanos(fired.get(0));
    }

    @Test
    void startsAtMaxWithoutConfirmations() {
        assertThat(fireTime(3, new String[0], new boolean[0])).isEqualTo(MAX);
    }

    @Test
    void theAccuserAndRepeatsDoNotCount() {
        assertThat(fireTime(3, new String[] {"me", "foo", "foo", "foo"}, new boolean[] {false, true, false, false}))
                .isEqualTo(Duration.ofMillis(1250));
    }

    @Test
    void shrinksLogarithmicallyWithDistinctConfirmations() {
        // 2 - (ln 3 / ln 4) * 1.5 s = 0.81128 s, floored to 811 ms (memberlist's test allows 25 ms of
        // wall-clock fudge around 810; virtual time gives the formula's exact value)
        assertThat(fireTime(3, new String[] {"me", "foo", "bar"}, new boolean[] {false, true, true}))
                .isEqualTo(Duration.ofMillis(811));
        assertThat(fireTime(3, new String[] {"me", "foo", "bar", "baz"}, new boolean[] {false, true, true, true}))
                .isEqualTo(MIN);
        // beyond k, confirmations are no longer new information
        assertThat(fireTime(3, new String[] {"me", "foo", "bar", "baz", "zoo"},
                new boolean[] {false, true, true, true, false})).isEqualTo(MIN);
    }

    @Test
    void withKZeroTheTimerIsTheMinimum() {
        assertThat(fireTime(0, new String[] {"foo"}, new boolean[] {false})).isEqualTo(MIN);
    }

    @Test
    void confirmationAfterTheRemainingTimeHasPassedFiresAtOnce() {
        SimulatedNetwork net = new SimulatedNetwork(1);
        Scheduler s = net.addNode("n").scheduler();
        List<Long> fired = new ArrayList<>();
        Suspicion susp = new Suspicion(s, "me", 3, MIN, MAX, () -> fired.add(net.nanoTime()));
        net.runFor(Duration.ofMillis(1500));
        assertThat(fired).isEmpty();
        // with 3 of 3 confirmations the timeout is MIN, already elapsed: fire now
        susp.confirm("a");
        susp.confirm("b");
        susp.confirm("c");
        net.runFor(Duration.ZERO);
        assertThat(fired).containsExactly(Duration.ofMillis(1500).toNanos());
    }

    @Test
    void cancelledSuspicionNeverFires() {
        SimulatedNetwork net = new SimulatedNetwork(1);
        Scheduler s = net.addNode("n").scheduler();
        List<Long> fired = new ArrayList<>();
        Suspicion susp = new Suspicion(s, "me", 3, MIN, MAX, () -> fired.add(net.nanoTime()));
        susp.cancel();
        assertThat(susp.confirm("x")).isFalse();
        net.runFor(Duration.ofSeconds(5));
        assertThat(fired).isEmpty();
    }
}
