package io.hacluster.gossip;

import io.hacluster.gossip.wire.MalformedMessageException;
import io.hacluster.gossip.wire.Message;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The handoff queue bounds only gossip (alive, suspect, dead, user), as memberlist's does: its
 * packet handler answers pings and takes acks and nacks at once and queues only the rest, up to
 * HandoffQueueDepth. A burst of user traffic must therefore never cost a probe its ack.
 */
class SimHandoffQueueTest {

    private static final int DEPTH = 16;

    @Test
    void aBurstOfUserMessagesIsShedWithoutDroppingProbeAcks() {
        // No TCP fallback ping: it would hide lost UDP acks (a TCP-only success keeps a node alive).
        SimCluster c = new SimCluster(41, n -> GossipConfig.lan(n).toBuilder().handoffQueueDepth(DEPTH)
                .disableTcpPings(true).build());
        String victim = SimCluster.name(0);
        WireCodec codec = WireCodec.forConfig(GossipConfig.lan(victim));
        byte[] userPacket = codec.packet(codec.encode(new Message.User("burst".getBytes(StandardCharsets.UTF_8))),
                false);
        boolean[] flooding = {false};
        AtomicLong delivered = new AtomicLong();
        AtomicLong acksSeen = new AtomicLong();
        c.start(victim, b -> b.messageListener(p -> delivered.incrementAndGet())
                .transport(new BurstBeforeAcks(c.net.node(victim).transport(), codec, userPacket, flooding, acksSeen)));
        for (int i = 1; i < 6; i++) {
            c.start(SimCluster.name(i));
        }
        for (int i = 1; i < 6; i++) {
            c.members.get(SimCluster.name(i)).join(java.util.List.of(c.net.node(victim).address()));
        }
        assertThat(c.runUntil(c::converged, Duration.ofSeconds(30))).isTrue();
        Map<String, Long> incarnations = new HashMap<>();
        c.members.forEach((n, m) -> incarnations.put(n, m.localMember().incarnation()));

        flooding[0] = true;
        c.net.runFor(Duration.ofSeconds(60));

        Memberlist v = c.members.get(victim);
        // The bursts did overflow the queue (so the test exercises the bound) and were partly taken.
        assertThat(acksSeen.get()).isPositive();
        assertThat(v.stats().overloadDropped()).isGreaterThanOrEqualTo(acksSeen.get() * DEPTH);
        assertThat(delivered.get()).isPositive();
        // Yet every probe got its ack: no suspicion, so nobody had to refute, and the victim
        // never doubted its own health.
        assertThat(v.healthScore()).isZero();
        c.members.forEach((n, m) -> assertThat(m.localMember().incarnation()).as(n).isEqualTo(incarnations.get(n)));
        assertThat(c.falseDeaths(c.running())).isEmpty();
        assertThat(c.converged()).isTrue();
    }

    /** Delivers 2 x DEPTH user packets to the node just before every packet that carries an ack. */
    private static final class BurstBeforeAcks implements Transport {
        private final Transport inner;
        private final WireCodec codec;
        private final byte[] userPacket;
        private final boolean[] flooding;
        private final AtomicLong acksSeen;

        BurstBeforeAcks(Transport inner, WireCodec codec, byte[] userPacket, boolean[] flooding, AtomicLong acksSeen) {
            this.inner = inner;
            this.codec = codec;
            this.userPacket = userPacket;
            this.flooding = flooding;
            this.acksSeen = acksSeen;
        }

        @Override
        public void start(Inbound inbound) {
            inner.start(new Inbound() {
                @Override
                public void onPacket(InetSocketAddress from, byte[] packet, long receivedAtNanos) {
                    if (flooding[0] && carriesAck(packet)) {
                        acksSeen.incrementAndGet();
                        for (int i = 0; i < 2 * DEPTH; i++) {
                            inbound.onPacket(from, userPacket.clone(), receivedAtNanos);
                        }
                    }
                    inbound.onPacket(from, packet, receivedAtNanos);
                }

                @Override
                public CompletableFuture<byte[]> onStream(InetSocketAddress from, byte[] message) {
                    return inbound.onStream(from, message);
                }
            });
        }

        private boolean carriesAck(byte[] packet) {
            try {
                for (byte[] part : codec.unwrapPacket(packet).messages()) {
                    if (codec.decode(part) instanceof Message.Ack) {
                        return true;
                    }
                }
            } catch (MalformedMessageException e) {
                return false;
            }
            return false;
        }

        @Override
        public InetSocketAddress advertiseAddress() {
            return inner.advertiseAddress();
        }

        @Override
        public void sendPacket(InetSocketAddress to, byte[] packet) {
            inner.sendPacket(to, packet);
        }

        @Override
        public CompletableFuture<byte[]> exchange(InetSocketAddress to, byte[] request, boolean expectReply,
                                                  Duration timeout) {
            return inner.exchange(to, request, expectReply, timeout);
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
