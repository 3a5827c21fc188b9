package io.hacluster.gossip;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The small pieces behind the bounds without a key: incarnation order, admission, log hygiene. */
class GossipBoundsTest {

    private static final long MAX = 0xFFFF_FFFFL;

    @Test
    void serialOrderAgreesWithPlainOrderForSmallNumbersAndSurvivesTheWrap() {
        for (long a = 0; a < 50; a++) {
            for (long b = 0; b < 50; b++) {
                assertThat(Incarnations.newer(a, b)).as("%d vs %d", a, b).isEqualTo(a > b);
                assertThat(Incarnations.older(a, b)).isEqualTo(a < b);
            }
        }
        assertThat(Incarnations.newer(1, MAX)).isTrue();
        assertThat(Incarnations.newer(MAX, 1)).isFalse();
        assertThat(Incarnations.newer(5 + (1L << 31) - 1, 5)).isTrue();
        assertThat(Incarnations.newer(5 + (1L << 31), 5)).as("exactly half way is not newer").isFalse();
        assertThat(Incarnations.newer(7, 7)).isFalse();
    }

    @Test
    void aRefutationOrdersAfterTheAccusationAndIsNeverZero() {
        assertThat(Incarnations.refuting(3, 1)).isEqualTo(4);
        assertThat(Incarnations.refuting(3, 10)).isEqualTo(11);
        assertThat(Incarnations.refuting(3, MAX)).isEqualTo(4);        // 4 already orders after 2^32-1
        assertThat(Incarnations.refuting(MAX, MAX)).isEqualTo(1);      // wraps past 0
        assertThat(Incarnations.refuting(MAX - 1, MAX)).isEqualTo(1);
        long current = 12345;
        for (long accused : new long[] {0, 1, current, current + 1, current + (1L << 31) - 1, MAX, MAX - 1}) {
            long r = Incarnations.refuting(current, accused);
            assertThat(r).isNotZero();
            // No number orders after both when the accusation is exactly 2^31-1 ahead (the two
            // half-ranges do not overlap); the refutation then orders after the accusation, which
            // is what the peers that believed it need.
            if (((accused - current) & MAX) != (1L << 31) - 1) {
                assertThat(Incarnations.newer(r, current)).as("refuting %d", accused).isTrue();
            }
            if (!Incarnations.older(accused, current)) {
                assertThat(Incarnations.newer(r, accused)).as("refuting %d", accused).isTrue();
            }
        }
    }

    @Test
    void admissionCapsTheTableAndRefillsAtTheRate() {
        MemberAdmission door = new MemberAdmission(100, 10);
        long t = 1_000_000_000L;
        for (int i = 0; i < 10; i++) {
            assertThat(door.admit(5 + i, t)).isNull();
        }
        assertThat(door.admit(15, t)).contains("new nodes a second");
        assertThat(door.admit(15, t + 100_000_000L)).as("one token after 0.1 s").isNull();
        assertThat(door.admit(16, t + 100_000_000L)).isNotNull();
        assertThat(door.admit(16, t + 60_000_000_000L)).isNull();
        assertThat(door.admit(100, t + 120_000_000_000L)).contains("member table full");
    }

    @Test
    void peerTextIsEscapedAndBounded() {
        assertThat(PeerText.escape("a\nb\r\u001b[31m\u2028")).isEqualTo("a\\u000ab\\u000d\\u001b[31m\\u2028");
        assertThat(PeerText.escape("x".repeat(1000))).startsWith("x".repeat(256)).endsWith("...(1000 chars)");
        assertThat(PeerText.escape(null)).isEqualTo("null");
    }

    @Test
    void repeatedWarningsAreWrittenOncePerIntervalWithASuppressedCount() {
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("test.WarnLimiter");
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        try {
            WarnLimiter limiter = new WarnLimiter(logger, Duration.ofMillis(200));
            for (int i = 0; i < 1000; i++) {
                limiter.warn("kind", "bad thing " + i);
            }
            limiter.warn("other", "another kind");
            assertThat(lines.list).extracting(ILoggingEvent::getFormattedMessage)
                    .containsExactly("bad thing 0", "another kind");
            assertThat(limiter.suppressed("kind")).isEqualTo(999);
            int[] refusedAttempts = {0};
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> {
                if (limiter.warn("kind", "bad thing again")) {
                    return true;
                }
                refusedAttempts[0]++;
                return false;
            });
            assertThat(lines.list.get(2).getFormattedMessage())
                    .isEqualTo("bad thing again (" + (999 + refusedAttempts[0]) + " similar lines suppressed)");
            assertThat(limiter.suppressed("kind")).isZero();
        } finally {
            logger.detachAppender(lines);
        }
    }
}
