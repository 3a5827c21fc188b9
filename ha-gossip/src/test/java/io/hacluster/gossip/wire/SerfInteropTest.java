package io.hacluster.gossip.wire;

import io.hacluster.gossip.serf.SerfAgent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Interop with a real memberlist: Debian's serf agent (serf 0.9.4, memberlist 0.2.2, go-msgpack
 * 0.5.5). A peer built only from this package's codec must be accepted by serf as a member, and
 * must decode everything serf sends it, over TCP streams and UDP packets.
 */
class SerfInteropTest {

    @ParameterizedTest(name = "serf -protocol {0}")
    @ValueSource(ints = {5, 3})
    @Timeout(120)
    void serfJoinsAJavaWirePeerAndKeepsItAlive(int serfProtocol) throws Exception {
        SerfAgent.requireInstalled();
        byte[] meta = "java".getBytes(StandardCharsets.UTF_8);
        try (WirePeer java = new WirePeer("java1", meta, WireOptions.DEFAULT);
             SerfPeer serf = SerfPeer.start("serf1", freePort(), freePort(),
                     "-protocol", Integer.toString(serfProtocol))) {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> serf.cli("members").exit() == 0);

            // 1. serf dials us and pushes its state; our framing, unwrap and decoder read it.
            SerfPeer.CliResult join = serf.cli("join", "127.0.0.1:" + java.port());
            assertThat(join.output()).as(serf.log()).contains("Successfully joined cluster by contacting 1 nodes");
            assertThat(java.streamFirstBytes.peek()).as("memberlist compresses streams").isEqualTo(9);
            PushPull pushed = java.pushPullsReceived.peek();
            assertThat(pushed).isNotNull();
            assertThat(pushed.join()).isTrue();
            assertThat(pushed.userState()).as("serf's own state rides as user state").isNotEmpty();
            PushNodeState serfNode = pushed.nodes().stream().filter(n -> n.name().equals("serf1"))
                    .findFirst().orElseThrow();
            assertThat(serfNode.state()).isEqualTo(PushNodeState.STATE_ALIVE);
            assertThat(serfNode.addr()).containsExactly(127, 0, 0, 1);
            assertThat(serfNode.port()).isEqualTo(serf.bindPort);
            assertThat(serfNode.incarnation()).isGreaterThanOrEqualTo(0);
            assertThat(serfNode.vsn()).hasSize(Codec.VSN_LENGTH);
            assertThat(serfNode.vsn()[0]).isLessThanOrEqualTo(serfNode.vsn()[2]);   // pmin <= pcur
            assertThat(serfNode.vsn()[2]).isLessThanOrEqualTo(serfNode.vsn()[1]);   // pcur <= pmax
            assertThat(serfNode.vsn()[5]).as("delegate version is the serf protocol").isEqualTo((byte) serfProtocol);

            // 2. serf decoded our push/pull reply: our node is a member, with our meta and versions.
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
                String members = serf.cli("members", "-format", "json").output();
                assertThat(memberJson(members, "java1")).hasValueSatisfying(m -> assertThat(m)
                        .contains("\"addr\": \"127.0.0.1:" + java.port() + "\"")
                        .contains("\"status\": \"alive\"")
                        .contains("\"role\": \"java\"")
                        .contains("\"version\": 4"));
            });

            // 3. serf probes us over UDP (CRC-framed, since we advertise protocol max 5) and accepts our acks.
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> java.pingsAcked.get() >= 3);
            assertThat(java.packetsWithCrc.get()).isGreaterThanOrEqualTo(3);
            String members = serf.cli("members", "-format", "json").output();
            assertThat(memberJson(members, "java1")).hasValueSatisfying(m -> assertThat(m).contains("\"status\": \"alive\""));
            assertThat(serf.log()).doesNotContain("Suspect java1").doesNotContain("Failed to decode");
            assertThat(serf.log()).as("serf read our 300-byte user state at the right offset")
                    .contains("Remote state has bad type prefix: 238");

            // 4. We initiate: a TCP ping, and a push/pull whose reply lists both nodes.
            InetSocketAddress serfAddr = new InetSocketAddress("127.0.0.1", serf.bindPort);
            byte[] ackBytes = java.exchange(serfAddr, Codec.encode(
                    new Message.Ping(4242, "serf1", new byte[] {127, 0, 0, 1}, java.port(), "java1")));
            Message ack = Codec.decode(ackBytes);
            assertThat(ack).isInstanceOf(Message.Ack.class);
            assertThat(((Message.Ack) ack).seqNo()).isEqualTo(4242);
            assertThat(Hex.hex(ackBytes)).as("Go's bytes for ackResp{4242, nil} equal ours")
                    .isEqualTo(Hex.hex(Codec.encode(new Message.Ack(4242, null))));

            byte[] reply = java.exchange(serfAddr, Codec.encodePushPull(
                    new PushPull(false, List.of(java.selfState()), new byte[0])));
            PushPull state = Codec.decodePushPull(reply, WireLimits.DEFAULT);
            assertThat(state.join()).isFalse();
            assertThat(state.nodes()).extracting(PushNodeState::name).contains("serf1", "java1");
            assertThat(Hex.hex(nodeStateBytes(reply, state.userState().length)))
                    .as("Go's encoding of the node states equals ours, byte for byte")
                    .isEqualTo(Hex.hex(nodeStateBytes(Codec.encodePushPull(
                            new PushPull(state.join(), state.nodes(), new byte[0])), 0)));

            // Every packet message serf sent re-encodes to exactly serf's bytes (no Go int fields there).
            assertThat(java.reencodingMismatches).isEmpty();
            assertThat(java.reencodedIdentically.get(MessageType.PING)).hasValueGreaterThanOrEqualTo(3);

            PushNodeState javaSeenBySerf = state.nodes().stream().filter(n -> n.name().equals("java1"))
                    .findFirst().orElseThrow();
            assertThat(javaSeenBySerf.state()).isEqualTo(PushNodeState.STATE_ALIVE);
            assertThat(javaSeenBySerf.meta()).isEqualTo(meta);
            assertThat(javaSeenBySerf.vsn()).isEqualTo(WirePeer.VSN);
            assertThat(javaSeenBySerf.port()).isEqualTo(java.port());

            assertThat(java.malformed).as("nothing serf sent was rejected").isEmpty();
            assertThat(serf.alive()).isTrue();
        }
    }

    @Test
    @Timeout(120)
    void encryptedRingWorksThroughTheCipherSeam() throws Exception {
        SerfAgent.requireInstalled();
        byte[] key = new byte[16];
        new SecureRandom().nextBytes(key);
        WireOptions encrypted = WireOptions.DEFAULT.withCipher(TestCiphers.aesGcm(key));
        try (WirePeer java = new WirePeer("java1", "java".getBytes(StandardCharsets.UTF_8), encrypted);
             SerfPeer serf = SerfPeer.start("serf1", freePort(), freePort(),
                     "-encrypt", Base64.getEncoder().encodeToString(key))) {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> serf.cli("members").exit() == 0);

            SerfPeer.CliResult join = serf.cli("join", "127.0.0.1:" + java.port());
            assertThat(join.output()).as(serf.log()).contains("Successfully joined cluster by contacting 1 nodes");
            assertThat(java.streamFirstBytes.peek()).as("encrypted stream").isEqualTo(10);
            assertThat(java.pushPullsReceived.peek().nodes()).extracting(PushNodeState::name).contains("serf1");

            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                    assertThat(memberJson(serf.cli("members", "-format", "json").output(), "java1"))
                            .hasValueSatisfying(m -> assertThat(m).contains("\"status\": \"alive\"")));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> java.pingsAcked.get() >= 3);

            PushPull state = Codec.decodePushPull(java.exchange(new InetSocketAddress("127.0.0.1", serf.bindPort),
                    Codec.encodePushPull(new PushPull(false, List.of(java.selfState()), new byte[0]))),
                    WireLimits.DEFAULT);
            assertThat(state.nodes()).extracting(PushNodeState::name).contains("serf1", "java1");
            assertThat(serf.log()).doesNotContain("Suspect java1").doesNotContain("Decrypt packet failed")
                    .doesNotContain("Failed to decrypt");
            assertThat(java.malformed).isEmpty();
        }
    }

    /** The node-state section of a plain push/pull message: after the header, before the user state. */
    static byte[] nodeStateBytes(byte[] m, int userStateLength) throws MalformedMessageException {
        int headerEnd = MsgpackScanner.valueEnd(m, 1, m.length, m.length);
        return Arrays.copyOfRange(m, headerEnd, m.length - userStateLength);
    }

    /** The JSON object of one member in {@code serf members -format json} output, if listed. */
    static Optional<String> memberJson(String json, String name) {
        int at = json.indexOf("\"name\": \"" + name + "\"");
        if (at < 0) {
            return Optional.empty();
        }
        int start = json.lastIndexOf('{', at);
        int end = json.indexOf("\"protocol\"", at);
        end = end < 0 ? json.length() : json.indexOf('}', json.indexOf('}', end) + 1) + 1;
        return Optional.of(json.substring(start, Math.max(start, Math.min(end, json.length()))));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
