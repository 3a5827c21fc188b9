package io.hacluster.gossip.serf;

import io.hacluster.gossip.GossipConfig;
import io.hacluster.gossip.Keyring;
import io.hacluster.gossip.LogCapture;
import io.hacluster.gossip.LoopbackTimeouts;
import io.hacluster.gossip.Member;
import io.hacluster.gossip.MemberState;
import io.hacluster.gossip.Memberlist;
import io.hacluster.gossip.netty.NettyTransport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Gossip encryption against Debian's serf agent started with {@code -encrypt}: the same AES-GCM
 * layout, keys and associated data as memberlist, in both join directions; a wrong key is refused
 * and the log says why; verify-incoming drops plaintext, and verify-incoming off lets an
 * encrypting node accept a plaintext peer (the first step of moving a live cluster to encryption).
 */
class SerfEncryptionTest {
    private static final Duration CONVERGE_WAIT = Duration.ofSeconds(20);

    @BeforeAll
    static void serfInstalled() {
        SerfAgent.requireInstalled();
    }

    private static Memberlist javaNode(String name, Keyring keyring, boolean verifyIncoming, boolean verifyOutgoing) {
        GossipConfig config = GossipConfig.local(name).toBuilder()
                .bindHost("127.0.0.1").bindPort(0)
                .delegateProtocol(2, 5, 5)
                .tcpTimeout(LoopbackTimeouts.TCP_TIMEOUT)
                .keyring(keyring)
                .gossipVerifyIncoming(verifyIncoming)
                .gossipVerifyOutgoing(verifyOutgoing)
                .build();
        return Memberlist.builder(config).transport(NettyTransport.bind(config)).build();
    }

    private static void awaitBothAlive(SerfAgent serf, Memberlist java, String serfName, String javaName) {
        await("serf lists the Java node alive").atMost(CONVERGE_WAIT).untilAsserted(() ->
                assertThat(serf.statusOf(javaName)).as("serf members: %s", serf.statuses()).contains("alive"));
        await("Java lists the agent alive").atMost(CONVERGE_WAIT).untilAsserted(() -> {
            Member agent = java.member(serfName);
            assertThat(agent).isNotNull();
            assertThat(agent.state()).isEqualTo(MemberState.ALIVE);
        });
    }

    @ParameterizedTest(name = "{0}-byte key")
    @ValueSource(ints = {16, 24, 32})
    void javaWithTheRightKeyJoinsAnEncryptingSerfAgent(int keyLength) throws Exception {
        byte[] key = java.util.Arrays.copyOf(Keyring.generateKey(), keyLength);
        String serfName = "serf-enc-" + keyLength;
        String javaName = "java-enc-" + keyLength;
        try (SerfAgent serf = SerfAgent.start(serfName, "local", 5, "-encrypt=" + Keyring.encodeKey(key));
             Memberlist java = javaNode(javaName, Keyring.of(key), true, true)) {
            assertThat(java.join(List.of(serf.gossipAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(),
                    TimeUnit.SECONDS)).isEqualTo(1);
            awaitBothAlive(serf, java, serfName, javaName);
            // Probes and gossip flow both ways for a while, every packet decrypted.
            long before = java.stats().packetsReceived();
            await().atMost(CONVERGE_WAIT).until(() -> java.stats().packetsReceived() > before + 5);
            assertThat(java.stats().encryptionDropped()).isZero();
            assertThat(serf.output()).doesNotContain("decrypt");
        }
    }

    @Test
    void anEncryptingSerfAgentJoinsJava() throws Exception {
        byte[] key = Keyring.generateKey();
        try (SerfAgent serf = SerfAgent.start("serf-joiner", "local", 5, "-encrypt=" + Keyring.encodeKey(key));
             Memberlist java = javaNode("java-seed", Keyring.of(key), true, true)) {
            serf.join(java.advertiseAddress());
            awaitBothAlive(serf, java, "serf-joiner", "java-seed");
            assertThat(java.stats().encryptionDropped()).isZero();
        }
    }

    @Test
    void aSecondaryKeyDecryptsWhatSerfSendsWithIt() throws Exception {
        byte[] serfKey = Keyring.generateKey();
        // Java encrypts with its own primary, which serf cannot read, so only serf -> Java works:
        // the point is that an installed non-primary key decrypts serf's packets.
        try (SerfAgent serf = SerfAgent.start("serf-secondary", "local", 5, "-encrypt=" + Keyring.encodeKey(serfKey));
             Memberlist java = javaNode("java-secondary", Keyring.of(Keyring.generateKey(), serfKey), true, true)) {
            assertThatThrownBy(() -> serf.join(java.advertiseAddress())).isInstanceOf(IllegalStateException.class);
            // serf's join push/pull reached Java and was decrypted with the secondary key and merged.
            await().atMost(CONVERGE_WAIT).until(() -> java.member("serf-secondary") != null);
        }
    }

    @Test
    void withAWrongKeyNeitherSideJoinsAndJavaSaysWhy() throws Exception {
        try (LogCapture log = LogCapture.of(Class.forName("io.hacluster.gossip.GossipCore"));
             SerfAgent serf = SerfAgent.start("serf-other-key", "local", 5,
                     "-encrypt=" + Keyring.encodeKey(Keyring.generateKey()));
             Memberlist java = javaNode("java-wrong-key", Keyring.of(Keyring.generateKey()), true, true)) {
            assertThatThrownBy(() -> java.join(List.of(serf.gossipAddress()))
                    .get(LoopbackTimeouts.JOIN_WAIT.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasStackTraceContaining("no installed key could decrypt");
            assertThatThrownBy(() -> serf.join(java.advertiseAddress())).isInstanceOf(IllegalStateException.class);
            assertThat(java.member("serf-other-key")).isNull();
            assertThat(serf.statusOf("java-wrong-key")).isEmpty();
            assertThat(java.stats().encryptionDropped()).isPositive();
            assertThat(log.messages()).anySatisfy(m -> assertThat(m)
                    .contains("no installed key could decrypt").contains("another gossip key"));
        }
    }

    @Test
    void verifyIncomingDropsAndCountsAPlaintextPeer() throws Exception {
        try (SerfAgent serf = SerfAgent.start("serf-plain", "local", 5);
             Memberlist java = javaNode("java-verifying", Keyring.of(Keyring.generateKey()), true, true)) {
            assertThatThrownBy(() -> serf.join(java.advertiseAddress())).isInstanceOf(IllegalStateException.class);
            assertThat(java.stats().encryptionDropped()).isPositive();
            assertThat(java.member("serf-plain")).isNull();
        }
    }

    @Test
    void withVerifyIncomingOffAnEncryptingNodeAcceptsAPlaintextPeer() throws Exception {
        // Step 1 of a live move to encryption: every node gets the key with verify-outgoing and
        // verify-incoming off (plaintext out, both in); a plain serf agent still talks to it.
        try (SerfAgent serf = SerfAgent.start("serf-legacy", "local", 5);
             Memberlist java = javaNode("java-migrating", Keyring.of(Keyring.generateKey()), false, false)) {
            assertThat(java.join(List.of(serf.gossipAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(),
                    TimeUnit.SECONDS)).isEqualTo(1);
            awaitBothAlive(serf, java, "serf-legacy", "java-migrating");
            assertThat(java.stats().encryptionDropped()).isZero();
        }
    }
}
