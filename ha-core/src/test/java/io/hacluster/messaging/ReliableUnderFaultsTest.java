package io.hacluster.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.ClusterMessage;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The "must show": 100,002 reliable broadcasts between three messengers while node-c's streaming
 * connections are reset and kept down several times; every receiver sees every sender's messages
 * exactly once and in order.
 */
class ReliableUnderFaultsTest {

    private static final int PER_SENDER = 33_334;
    private static final int WINDOW = 2_000;
    private static final int CUTS = 6;

    /** What one receiver saw from one sender. */
    static final class Track {
        final AtomicLong last = new AtomicLong();
        final AtomicLong violations = new AtomicLong();
        final List<String> samples = new CopyOnWriteArrayList<>();

        void see(long n) {
            long expected = last.get() + 1;
            if (n != expected) {
                violations.incrementAndGet();
                if (samples.size() < 5) {
                    samples.add("expected " + expected + " got " + n);
                }
            }
            last.set(Math.max(last.get(), n));
        }
    }

    @Test
    void hundredThousandMessagesSurviveRepeatedConnectionCuts() throws Exception {
        try (Nodes nodes = Nodes.start(3, b -> b.maxPendingPerPeer(50_000).compressionEnabled(false))) {
            Map<String, Track> tracks = new ConcurrentHashMap<>(); // "receiver<-sender"
            for (Messenger m : nodes.all) {
                m.registerHandler("seq", in -> tracks
                        .computeIfAbsent(m.nodeId() + "<-" + in.senderId(), k -> new Track())
                        .see(ByteBuffer.wrap(in.data()).getLong()));
            }
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    nodes.all.stream().allMatch(m -> m.connectedPeers().size() == 2));

            AtomicLong acked = new AtomicLong();
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            List<Thread> senders = new ArrayList<>();
            for (Messenger m : nodes.all) {
                Thread t = new Thread(() -> {
                    Semaphore window = new Semaphore(WINDOW);
                    for (long i = 1; i <= PER_SENDER; i++) {
                        try {
                            if (!window.tryAcquire(60, TimeUnit.SECONDS)) {
                                failures.add(new AssertionError(m.nodeId() + " stalled at " + i));
                                return;
                            }
                        } catch (InterruptedException e) {
                            return;
                        }
                        byte[] data = ByteBuffer.allocate(64).putLong(0, i).array();
                        m.send(ClusterMessage.reliable("seq", data).waitingForAll(true)).whenComplete((v, e) -> {
                            window.release();
                            if (e != null) {
                                failures.add(e);
                            } else {
                                acked.incrementAndGet();
                            }
                        });
                    }
                }, "test-sender-" + m.nodeId());
                senders.add(t);
                t.start();
            }

            // cut node-c off at spread-out points of the run, each time for a while, then restore
            Messenger c = nodes.get(2);
            long total = 3L * PER_SENDER;
            for (int cut = 1; cut <= CUTS; cut++) {
                long milestone = total * cut / (CUTS + 1);
                await().atMost(Duration.ofSeconds(60)).until(() -> acked.get() >= milestone || !failures.isEmpty());
                c.faults().cut("node-a");
                c.faults().cut("node-b");
                await().atMost(Duration.ofSeconds(20)).until(() -> c.connectedPeers().isEmpty());
                Thread.sleep(150); // the outage: senders keep queueing, the dialers keep being refused
                c.faults().restore("node-a");
                c.faults().restore("node-b");
                // the next cut must hit live connections again (the dialers may be in backoff, while
                // traffic that does not need node-c's second link moves the milestone on)
                await().atMost(Duration.ofSeconds(30)).until(() -> c.connectedPeers().size() == 2);
            }
            for (Thread t : senders) {
                t.join(TimeUnit.SECONDS.toMillis(120));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> acked.get() == total || !failures.isEmpty());
            assertThat(failures).isEmpty();

            for (Messenger r : nodes.all) {
                for (Messenger s : nodes.all) {
                    if (r == s) {
                        continue;
                    }
                    Track tr = tracks.get(r.nodeId() + "<-" + s.nodeId());
                    assertThat(tr.samples).as("order/duplicates %s<-%s", r.nodeId(), s.nodeId()).isEmpty();
                    assertThat(tr.violations.get()).isZero();
                    assertThat(tr.last.get()).as("received %s<-%s", r.nodeId(), s.nodeId()).isEqualTo(PER_SENDER);
                }
                for (Messenger s : nodes.all) {
                    assertThat(r.pendingCount(s.nodeId())).isZero();
                }
            }
            // the faults really hit live traffic: node-c reconnected after every cut and refused
            // the dialers while cut
            MessengerStats cs = c.stats();
            assertThat(cs.connectionsEstablished()).isGreaterThanOrEqualTo(2 + 2L * CUTS);
            assertThat(cs.delivered()).isEqualTo(2L * PER_SENDER);
            long retransmitted = nodes.all.stream().mapToLong(m -> m.stats().retransmitted()).sum();
            assertThat(retransmitted).isPositive();
        }
    }
}
