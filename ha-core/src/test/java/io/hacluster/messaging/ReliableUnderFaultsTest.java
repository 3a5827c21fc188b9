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
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The "must show": 100,002 reliable broadcasts between three messengers while node-c's streaming
 * connections are reset and kept down several times; every receiver sees every sender's messages
 * exactly once and in order. Run over plain TCP, TLS (server certificates bound to addresses,
 * PEM files), mutual TLS (certificates bound to node ids, key stores) and the keyed HELLO, with
 * every node a current member at its address.
 */
class ReliableUnderFaultsTest {

    /** How the streams are secured. */
    enum Security { PLAIN, TLS, MUTUAL_TLS, KEYED_HELLO }

    @TempDir
    static Path certDir;
    private static TestCertificates ca;
    private static final Map<String, TestCertificates.Node> certs = new ConcurrentHashMap<>();

    @BeforeAll
    static void certificates() throws Exception {
        ca = TestCertificates.ca(certDir, "reliable");
        for (String id : List.of("node-a", "node-b", "node-c")) {
            certs.put(id, ca.node(id, "127.0.0.1"));
        }
    }

    private static MessengerConfig.Builder secure(Security security, String id, MessengerConfig.Builder b) {
        StreamSecurity strict = StreamSecurity.strict();
        return switch (security) {
            case PLAIN -> b.security(strict);
            case TLS -> {
                StreamTls tls = ca.pemTls(certs.get(id), false);
                yield b.security(strict.withTlsIdentity(TlsPeerIdentity.ADDRESS)).tls(tls.server(), tls.client());
            }
            case MUTUAL_TLS -> {
                StreamTls tls = ca.storeTls(certs.get(id), true);
                yield b.security(strict.withTlsIdentity(TlsPeerIdentity.NODE_ID)).tls(tls.server(), tls.client());
            }
            case KEYED_HELLO -> b.security(strict.withKeys(StreamKeys.of(
                    "0123456789abcdef0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII))));
        };
    }

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

    @ParameterizedTest
    @EnumSource(Security.class)
    void hundredThousandMessagesSurviveRepeatedConnectionCuts(Security security) throws Exception {
        try (Nodes nodes = Nodes.start(3, (id, b) -> secure(security, id, b.maxPendingPerPeer(50_000)
                .compressionEnabled(false)))) {
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
            for (Messenger m : nodes.all) {
                // strict admission, certificates and keys never refused a legitimate member
                assertThat(m.stats().handshakeOverflows()).isZero();
            }
            assertThat(cs.delivered()).isEqualTo(2L * PER_SENDER);
            long retransmitted = nodes.all.stream().mapToLong(m -> m.stats().retransmitted()).sum();
            assertThat(retransmitted).isPositive();
        }
    }
}
