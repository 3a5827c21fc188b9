package io.hacluster.gossip.wire;

import io.hacluster.gossip.GossipConfig;
import io.hacluster.gossip.Keyring;
import io.hacluster.gossip.LoopbackTimeouts;
import io.hacluster.gossip.MemberState;
import io.hacluster.gossip.Memberlist;
import io.hacluster.gossip.netty.NettyTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The fuzz of {@link KeyringFuzzTest} aimed at live encrypted nodes over real sockets: seeded
 * mutated datagrams (sealed with the cluster key, with another key, or plaintext) and mutated
 * streams, from loopback. Afterwards both nodes still see each other alive and a new node with
 * the key still joins: no crash, no hang, no wedged state. Counts: {@value #PACKETS_PROPERTY}
 * (default 10,000 datagrams) and streams a fiftieth of that.
 */
class LiveGossipFuzzTest {

    static final String PACKETS_PROPERTY = "ha.fuzz.gossip.live";

    private static Memberlist node(String name, byte[] key) {
        GossipConfig config = GossipConfig.local(name).toBuilder().bindHost("127.0.0.1").bindPort(0)
                .tcpTimeout(LoopbackTimeouts.TCP_TIMEOUT).keyring(Keyring.of(key)).build();
        return Memberlist.builder(config).transport(NettyTransport.bind(config)).build();
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void liveEncryptedNodesSurviveMutatedPacketsAndStreams() throws Exception {
        int packets = Integer.getInteger(PACKETS_PROPERTY, 10_000);
        byte[] key = new byte[32];
        new Random(21).nextBytes(key);
        byte[] otherKey = new byte[32];
        new Random(22).nextBytes(otherKey);
        List<Memberlist> nodes = new ArrayList<>();
        try {
            Memberlist a = node("fuzz-a", key);
            nodes.add(a);
            Memberlist b = node("fuzz-b", key);
            nodes.add(b);
            b.join(List.of(a.advertiseAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
            WireOptions insider = WireOptions.DEFAULT.withCipher(Keyring.of(key).cipherFor(2));
            WireOptions outsider = WireOptions.DEFAULT.withCipher(Keyring.of(otherKey).cipherFor(2));
            long base = SeededProperty.baseSeed();
            long received = a.stats().packetsReceived();
            try (DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                for (int i = 0; i < packets; i++) {
                    Random random = new Random(SeededProperty.caseSeed(base, "liveFuzz", i));
                    byte[] plain = ValidWireInputs.packetPayload(ValidWireInputs.packetMessages(random));
                    byte[] mutated = ByteMutator.mutate(plain, ValidWireInputs.bytes(random, 64), random);
                    byte[] datagram = switch (random.nextInt(3)) {
                        case 0 -> Packets.wrap(mutated.length == 0 ? new byte[1] : mutated, false, insider);
                        case 1 -> Packets.wrap(plain, false, outsider);
                        default -> mutated;
                    };
                    if (datagram.length > 0 && datagram.length <= 65_000) {
                        udp.send(new DatagramPacket(datagram, datagram.length, a.advertiseAddress()));
                    }
                    if (i % 500 == 499) { // pace to what the node takes in, without sleeping blind
                        long want = received + (i + 1) / 2;
                        await().atMost(Duration.ofSeconds(60)).until(() -> a.stats().packetsReceived() >= want);
                    }
                }
            }
            int streams = Math.max(1, packets / 50);
            for (int i = 0; i < streams; i++) {
                Random random = new Random(SeededProperty.caseSeed(base, "liveFuzzStream", i));
                byte[] plain = ValidWireInputs.streamMessage(random);
                byte[] mutated = ByteMutator.mutate(plain, ValidWireInputs.bytes(random, 64), random);
                byte[] frame = switch (random.nextInt(3)) {
                    case 0 -> Streams.wrap(mutated.length == 0 ? new byte[1] : mutated, insider);
                    case 1 -> Streams.wrap(plain, outsider);
                    default -> mutated;
                };
                sendStream(a.advertiseAddress(), frame);
            }
            // Still a cluster: both alive to each other, and a newcomer with the key joins.
            Memberlist c = node("fuzz-c", key);
            nodes.add(c);
            c.join(List.of(a.advertiseAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(60)).until(() -> nodes.stream().allMatch(n -> n.liveMembers().size() == 3));
            assertThat(a.member("fuzz-b").state()).isEqualTo(MemberState.ALIVE);
            assertThat(a.stats().encryptionDropped() + a.stats().malformedDropped()).isPositive();
        } finally {
            nodes.forEach(Memberlist::shutdown);
        }
    }

    private static void sendStream(InetSocketAddress to, byte[] frame) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(to, 5_000);
            s.setSoTimeout(2_000);
            try {
                s.getOutputStream().write(frame);
                s.shutdownOutput();
                while (s.getInputStream().read() >= 0) {
                    // drain whatever the node answers until it closes
                }
            } catch (IOException e) {
                // the node may reset a connection it refuses; that is an outcome, not a failure
            }
        }
    }
}
