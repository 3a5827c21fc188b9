package io.hacluster.gossip.netty;

import io.hacluster.gossip.Transport;
import io.hacluster.gossip.serf.SerfAgent;
import io.hacluster.gossip.wire.Codec;
import io.hacluster.gossip.wire.MalformedMessageException;
import io.hacluster.gossip.wire.PushNodeState;
import io.hacluster.gossip.wire.PushPull;
import io.hacluster.gossip.wire.Streams;
import io.hacluster.gossip.wire.WireOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * NettyTransport and the wire codec against a real Go memberlist (Debian's serf agent), without
 * our state machine: a push/pull join in each direction. The inbound case is the one that needs
 * stream framing: the Go side writes its state and keeps the connection open for our answer.
 */
class NettyTransportSerfTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /** memberlist protocol 1..5, speaking 2; delegate (serf) protocol 2..5, speaking 4. */
    private static final byte[] SERF_COMPATIBLE_VSN = {1, 5, 2, 2, 5, 4};

    @BeforeAll
    static void serfInstalled() {
        SerfAgent.requireInstalled();
    }

    private static byte[] pushPull(String name, InetSocketAddress address, boolean join) {
        PushNodeState self = new PushNodeState(name, address.getAddress().getAddress(), address.getPort(),
                new byte[0], 1, 0, SERF_COMPATIBLE_VSN);
        return Streams.wrap(Codec.encodePushPull(new PushPull(join, List.of(self), new byte[0])), WireOptions.DEFAULT);
    }

    private static PushPull decode(byte[] stream) throws MalformedMessageException {
        return Codec.decodePushPull(Streams.unwrap(stream, WireOptions.DEFAULT), WireOptions.DEFAULT.limits());
    }

    /** Ignores packets (serf will probe us; nobody answers, which does not matter here). */
    private static final class PushPullResponder implements Transport.Inbound {
        final BlockingQueue<PushPull> received = new LinkedBlockingQueue<>();
        final String name;
        volatile InetSocketAddress self;

        PushPullResponder(String name) {
            this.name = name;
        }

        @Override
        public void onPacket(InetSocketAddress from, byte[] packet, long receivedAtNanos) {
        }

        @Override
        public CompletableFuture<byte[]> onStream(InetSocketAddress from, byte[] message) {
            try {
                received.add(decode(message));
                return CompletableFuture.completedFuture(pushPull(name, self, false));
            } catch (MalformedMessageException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
    }

    @Test
    void pushPullJoinToSerfReturnsItsStateAndSerfListsUs() throws Exception {
        try (SerfAgent serf = SerfAgent.start("serf-out", "local", 4);
             NettyTransport transport = NettyTransport.bind(
                     NettyTransportConfig.of("java-out", new InetSocketAddress(LOOPBACK, 0)))) {
            PushPullResponder responder = new PushPullResponder("java-out");
            responder.self = transport.advertiseAddress();
            transport.start(responder);

            byte[] reply = transport.exchange(serf.gossipAddress(),
                    pushPull("java-out", transport.advertiseAddress(), true), true, Duration.ofSeconds(5))
                    .get(10, TimeUnit.SECONDS);
            PushPull state = decode(reply);
            assertThat(state.nodes()).anySatisfy(n -> {
                assertThat(n.name()).isEqualTo("serf-out");
                assertThat(n.state()).isZero(); // alive
                assertThat(n.port()).isEqualTo(serf.gossipAddress().getPort());
                assertThat(n.vsn()[5]).isEqualTo((byte) 4); // serf's -protocol is its delegate version
            });
            assertThat(state.userState()).isNotEmpty(); // serf's own push/pull (lamport clocks)
            await().atMost(Duration.ofSeconds(10)).until(() -> serf.statusOf("java-out").isPresent());
        }
    }

    @Test
    void serfJoiningUsIsAnsweredAfterFramingItsOpenEndedStream() throws Exception {
        try (SerfAgent serf = SerfAgent.start("serf-in", "local", 5);
             NettyTransport transport = NettyTransport.bind(
                     NettyTransportConfig.of("java-in", new InetSocketAddress(LOOPBACK, 0)))) {
            PushPullResponder responder = new PushPullResponder("java-in");
            responder.self = transport.advertiseAddress();
            transport.start(responder);

            serf.join(transport.advertiseAddress()); // fails (throws) unless our push/pull reply is read
            PushPull fromSerf = responder.received.poll(10, TimeUnit.SECONDS);
            assertThat(fromSerf).isNotNull();
            assertThat(fromSerf.join()).isTrue();
            assertThat(fromSerf.nodes()).anySatisfy(n -> assertThat(n.name()).isEqualTo("serf-in"));
            await().atMost(Duration.ofSeconds(10)).until(() -> serf.statusOf("java-in").isPresent());
            assertThat(transport.stats().streamsAccepted()).isEqualTo(1);
            assertThat(transport.stats().streamsDropped()).isZero();
        }
    }
}
