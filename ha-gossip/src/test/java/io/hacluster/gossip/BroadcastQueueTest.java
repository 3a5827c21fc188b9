package io.hacluster.gossip;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The transmit-limited queue: order, size limit, retransmit limit and invalidation by name. */
class BroadcastQueueTest {

    private int nodes = 10;

    private BroadcastQueue queue(int mult) {
        return new BroadcastQueue(mult, () -> nodes);
    }

    private static byte[] msg(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> strings(List<byte[]> l) {
        return l.stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
    }

    @Test
    void newerMessageForTheSameNodeReplacesTheOlder() {
        BroadcastQueue q = queue(3);
        List<String> finished = new ArrayList<>();
        q.enqueue("a", msg("alive-a-1"), () -> finished.add("alive-a-1"));
        q.enqueue("b", msg("alive-b-1"), null);
        q.enqueue("a", msg("suspect-a-1"), null);
        assertThat(q.size()).isEqualTo(2);
        assertThat(finished).containsExactly("alive-a-1");
        assertThat(strings(q.take(2, 1400))).containsExactlyInAnyOrder("suspect-a-1", "alive-b-1");
    }

    @Test
    void unnamedMessagesNeverReplaceEachOther() {
        BroadcastQueue q = queue(3);
        q.enqueue(null, msg("x"), null);
        q.enqueue(null, msg("x"), null);
        assertThat(q.size()).isEqualTo(2);
    }

    @Test
    void leastTransmittedFirstThenLongestThenNewest() {
        BroadcastQueue q = queue(3);
        q.enqueue("a", msg("aa"), null);
        q.enqueue("b", msg("bbbb"), null);
        q.enqueue("c", msg("cc"), null);
        // all at 0 transmits: longest first, then newest among equal lengths
        assertThat(strings(q.take(0, 6))).containsExactly("bbbb", "cc");
        // "aa" now has the fewest transmits (0): it goes first
        assertThat(strings(q.take(0, 2))).containsExactly("aa");
    }

    @Test
    void respectsTheByteLimitIncludingPerMessageOverhead() {
        BroadcastQueue q = queue(3);
        q.enqueue("a", msg("12345"), null);
        q.enqueue("b", msg("1234"), null);
        q.enqueue("c", msg("123"), null);
        // limit 12 with overhead 2: "12345" (7) + "123" (5) = 12; "1234" (6) would not fit after 12345
        assertThat(strings(q.take(2, 12))).containsExactly("12345", "123");
        assertThat(q.take(2, 3)).isEmpty(); // nothing fits in 1 byte
    }

    @Test
    void retiresMessagesAfterTheRetransmitLimitAndTellsTheOwner() {
        nodes = 10; // limit = 3 * ceil(log10(11)) = 6
        BroadcastQueue q = queue(3);
        int[] finished = {0};
        q.enqueue("a", msg("a"), () -> finished[0]++);
        int sent = 0;
        for (int i = 0; i < 20; i++) {
            sent += q.take(2, 1400).size();
        }
        assertThat(sent).isEqualTo(GossipMath.retransmitLimit(3, 10)).isEqualTo(6);
        assertThat(q.size()).isZero();
        assertThat(finished[0]).isEqualTo(1);
    }

    @Test
    void limitFollowsTheClusterSize() {
        nodes = 1000; // 4 * ceil(log10(1001)) = 16
        BroadcastQueue q = queue(4);
        q.enqueue("a", msg("a"), null);
        int sent = 0;
        while (!q.take(2, 1400).isEmpty()) {
            sent++;
        }
        assertThat(sent).isEqualTo(16);
    }

    @Test
    void pruneKeepsTheLeastTransmitted() {
        BroadcastQueue q = queue(10);
        q.enqueue("old", msg("old"), null);
        q.take(0, 3); // "old" now has 1 transmit
        q.enqueue("new1", msg("n1"), null);
        q.enqueue("new2", msg("n2"), null);
        List<String> finished = new ArrayList<>();
        q.prune(2);
        assertThat(q.size()).isEqualTo(2);
        assertThat(strings(q.take(0, 100))).containsExactlyInAnyOrder("n1", "n2");
        q.clear();
        assertThat(q.size()).isZero();
        assertThat(finished).isEmpty();
    }
}
