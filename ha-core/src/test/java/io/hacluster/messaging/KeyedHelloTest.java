package io.hacluster.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The keyed HELLO's parts: its frames decode only when well-formed, each proof depends on every
 * input it covers, and nodes in the middle of a key rotation (different primaries, the other's key
 * installed) still connect, while a node without the other's key does not.
 */
class KeyedHelloTest {

    private static final byte[] K1 = "k1-0123456789abcdef0123456789abc".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] K2 = "k2-0123456789abcdef0123456789abc".getBytes(StandardCharsets.US_ASCII);

    private static ByteBuf body(ByteBuf frame) {
        frame.skipBytes(5);  // length and type
        return frame;
    }

    @Test
    void keyedHelloAndAuthRoundTripAndMalformedOnesAreRefused() throws Exception {
        byte[] nonce = HelloAuth.nonce();
        byte[] mac = new byte[HelloAuth.MAC_BYTES];
        Wire.Hello h = Wire.decodeHello(body(Wire.keyedHello("c", "node-a", nonce, mac)));
        assertThat(h.keyed()).isTrue();
        assertThat(h.nonce()).isEqualTo(nonce);
        assertThat(h.mac()).isEqualTo(mac);
        Wire.Hello fromDialer = Wire.decodeHello(body(Wire.keyedHello("c", "node-a", nonce, null)));
        assertThat(fromDialer.mac()).isNull();
        assertThat(Wire.decodeHello(body(Wire.hello("c", "node-a"))).keyed()).isFalse();

        ByteBuf truncated = body(Wire.keyedHello("c", "node-a", nonce, mac));
        truncated.writerIndex(truncated.writerIndex() - 40);
        assertThatThrownBy(() -> Wire.decodeHello(truncated)).isInstanceOf(ProtocolException.class);
        ByteBuf oddMac = body(Wire.keyedHello("c", "node-a", nonce, new byte[5]));
        assertThatThrownBy(() -> Wire.decodeHello(oddMac)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("5-byte proof");
        assertThat(Wire.decodeAuth(body(Wire.auth(mac)))).isEqualTo(mac);
        assertThatThrownBy(() -> Wire.decodeAuth(Unpooled.wrappedBuffer(new byte[31])))
                .isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> Wire.decodeAuth(Unpooled.wrappedBuffer(new byte[33])))
                .isInstanceOf(ProtocolException.class);
    }

    @Test
    void eachProofCoversRoleIdsClusterNoncesAndKey() {
        byte[] nd = HelloAuth.nonce();
        byte[] na = HelloAuth.nonce();
        HelloAuth.Transcript t = new HelloAuth.Transcript("c", "node-a", "node-b", nd, na);
        byte[] acceptor = HelloAuth.acceptorProof(K1, t);
        byte[] dialer = HelloAuth.dialerProof(K1, t);
        assertThat(acceptor).hasSize(HelloAuth.MAC_BYTES).isNotEqualTo(dialer);  // no reflection
        List<HelloAuth.Transcript> others = List.of(
                new HelloAuth.Transcript("d", "node-a", "node-b", nd, na),
                new HelloAuth.Transcript("c", "node-0", "node-b", nd, na),
                new HelloAuth.Transcript("c", "node-a", "node-c", nd, na),
                new HelloAuth.Transcript("c", "node-a", "node-b", HelloAuth.nonce(), na),
                new HelloAuth.Transcript("c", "node-a", "node-b", nd, HelloAuth.nonce()));
        for (HelloAuth.Transcript other : others) {
            assertThat(HelloAuth.acceptorProof(K1, other)).isNotEqualTo(acceptor);
            assertThat(HelloAuth.dialerProofValid(List.of(K1), other, dialer)).isFalse();
        }
        assertThat(HelloAuth.acceptorProof(K2, t)).isNotEqualTo(acceptor);
        assertThat(HelloAuth.acceptorKeyOf(List.of(K2, K1), t, acceptor)).isEqualTo(K1);
        assertThat(HelloAuth.acceptorKeyOf(List.of(K2), t, acceptor)).isNull();
        assertThat(HelloAuth.dialerProofValid(List.of(K2, K1), t, dialer)).isTrue();
    }

    @Test
    void nodesMidRotationConnectAndANodeWithoutTheKeyDoesNot() throws Exception {
        // node-a still uses K1 with K2 installed; node-b already uses K2 with K1 installed
        Messenger a = new Messenger(Nodes.config("node-a")
                .security(StreamSecurity.strict().withKeys(() -> List.of(K1, K2))).build());
        Messenger b = new Messenger(Nodes.config("node-b")
                .security(StreamSecurity.strict().withKeys(() -> List.of(K2, K1))).build());
        // node-c has only K2 (K1 already removed there); node-z has only K1 (never got K2)
        Messenger c = new Messenger(Nodes.config("node-c")
                .security(StreamSecurity.strict().withKeys(() -> List.of(K2))).build());
        Messenger z = new Messenger(Nodes.config("node-z")
                .security(StreamSecurity.strict().withKeys(() -> List.of(K1))).build());
        try (a; b; c; z) {
            for (Messenger m : List.of(a, b, c, z)) {
                m.start();
                m.registerHandler("echo", in -> in.reply(in.data()));
            }
            for (Messenger m : List.of(a, b, c, z)) {
                for (Messenger o : List.of(a, b, c, z)) {
                    if (m != o) {
                        m.peerAlive(o.nodeId(), o.localAddress());
                    }
                }
            }
            byte[] hi = "hi".getBytes(StandardCharsets.UTF_8);
            assertThat(a.request("node-b", "echo", hi, Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS)).isEqualTo(hi);
            assertThat(b.request("node-a", "echo", hi, Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS)).isEqualTo(hi);
            // node-c (K2 only) and node-a (K1 primary, K2 installed): node-a dials and verifies node-c's
            // K2 proof with its K2, answers with K2: they connect
            assertThat(a.request("node-c", "echo", hi, Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS)).isEqualTo(hi);
            // node-c (K2 only) dials node-z (K1 only): no shared key, refused both ways
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                    .until(() -> c.stats().handshakeRejections() >= 1);
            assertThat(c.connectedPeers()).doesNotContain("node-z");
            assertThat(z.connectedPeers()).doesNotContain("node-c");
        }
    }
}
