package io.hacluster;

import io.hacluster.gossip.Keyring;
import io.hacluster.gossip.wire.Codec;
import io.hacluster.gossip.wire.Message;
import io.hacluster.gossip.wire.Packets;
import io.hacluster.gossip.wire.WireOptions;
import io.hacluster.messaging.SendResult;
import io.hacluster.security.KeyringResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Gossip key rotation on a live five-node cluster through {@link ClusterNode#keyring()}: install a
 * new key everywhere, use it, remove the old one, while reliable messages flow and a sampler
 * watches every node's member list. No node may ever be seen DEAD or LEFT, no reliable message
 * may be lost or reordered, and no node may drop a single gossip packet for want of a key.
 */
class ClusterKeyRotationTest {

    private static final Duration CONVERGE = Duration.ofSeconds(60);
    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void close() {
        nodes.forEach(ClusterNode::close);
    }

    private static byte[] intBytes(int i) {
        return ByteBuffer.allocate(4).putInt(i).array();
    }

    private List<ClusterNode> startFive(String key) {
        String cluster = TestNodes.clusterName();
        List<String> seeds = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ClusterNode n = ClusterNode.builder()
                    .clusterSettings(TestNodes.settings(cluster, seeds)
                            .enableExperimentalGossipEncryption(true)
                            .gossipEncryptionKey(key)
                            .build())
                    .joinTimeout(Duration.ofSeconds(10))
                    .build();
            nodes.add(n);
            n.start();
            if (seeds.isEmpty()) {
                seeds = List.of("127.0.0.1:" + n.gossipAddress().getPort());
            }
        }
        await().atMost(CONVERGE).until(() -> nodes.stream().allMatch(n ->
                n.members().stream().filter(m -> m.state() == MembershipState.ALIVE).count() == 5));
        return nodes;
    }

    @Test
    void installUseRemoveOnFiveLiveNodesLosesNothing() throws Exception {
        byte[] oldKey = Keyring.generateKey();
        byte[] newKey = Keyring.generateKey();
        String oldFp = Keyring.fingerprint(oldKey);
        String newFp = Keyring.fingerprint(newKey);
        List<ClusterNode> five = startFive(Keyring.encodeKey(oldKey));

        // Reliable traffic from node 0 to every other node, numbered per target.
        Map<String, List<Integer>> received = new ConcurrentHashMap<>();
        for (ClusterNode n : five) {
            received.put(n.id(), new CopyOnWriteArrayList<>());
            String me = n.id();
            n.registerHandler("seq", in -> received.get(me).add(ByteBuffer.wrap(in.data()).getInt()));
        }
        // A sampler that records any node that any node ever shows not alive.
        List<String> notAlive = new CopyOnWriteArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (running.get()) {
                for (ClusterNode n : five) {
                    n.members().stream()
                            .filter(m -> m.state() == MembershipState.DEAD || m.state() == MembershipState.LEFT)
                            .forEach(m -> notAlive.add(n.id() + " saw " + m.id() + " " + m.state()));
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "rotation-sampler");
        sampler.start();
        ClusterNode sender = five.get(0);
        List<java.util.concurrent.CompletableFuture<SendResult>> sends = new CopyOnWriteArrayList<>();
        int[] next = new int[5];
        Runnable sendRound = () -> {
            for (int t = 1; t < 5; t++) {
                sends.add(sender.sendTo(five.get(t).id(), ClusterMessage.reliable("seq", intBytes(next[t]++))));
            }
        };
        try {
            for (int i = 0; i < 20; i++) {
                sendRound.run();
            }
            KeyringResponse install = five.get(2).keyring().installKey(Keyring.encodeKey(newKey)).get(60, TimeUnit.SECONDS);
            assertThat(install.ok()).as("install: %s", install).isTrue();
            assertThat(install.numNodes()).isEqualTo(5);
            KeyringResponse listed = sender.keyring().listKeys().get(60, TimeUnit.SECONDS);
            assertThat(listed.keys()).containsEntry(oldFp, 5).containsEntry(newFp, 5);
            assertThat(listed.primaryKeys()).containsOnly(Map.entry(oldFp, 5));
            for (int i = 0; i < 20; i++) {
                sendRound.run();
            }

            KeyringResponse use = five.get(3).keyring().useKey(Keyring.encodeKey(newKey)).get(60, TimeUnit.SECONDS);
            assertThat(use.ok()).as("use: %s", use).isTrue();
            for (int i = 0; i < 20; i++) {
                sendRound.run();
            }
            // Removing the key in use is refused on every node, with the reason.
            KeyringResponse refused = sender.keyring().removeKey(Keyring.encodeKey(newKey)).get(60, TimeUnit.SECONDS);
            assertThat(refused.errors()).hasSize(5);
            assertThat(refused.errors().values()).allSatisfy(e -> assertThat(e).contains("primary"));

            KeyringResponse remove = sender.keyring().removeKey(Keyring.encodeKey(oldKey)).get(60, TimeUnit.SECONDS);
            assertThat(remove.ok()).as("remove: %s", remove).isTrue();
            listed = five.get(4).keyring().listKeys().get(60, TimeUnit.SECONDS);
            assertThat(listed.keys()).containsOnly(Map.entry(newFp, 5));
            assertThat(listed.primaryKeys()).containsOnly(Map.entry(newFp, 5));
            for (int i = 0; i < 20; i++) {
                sendRound.run();
            }
            for (var f : sends) {
                f.get(60, TimeUnit.SECONDS);
            }
            // Gossip keeps running on the new key alone for a few probe rounds.
            long[] before = five.stream().mapToLong(n -> n.gossipStats().packetsReceived()).toArray();
            await().atMost(CONVERGE).until(() -> {
                for (int i = 0; i < 5; i++) {
                    if (five.get(i).gossipStats().packetsReceived() < before[i] + 20) {
                        return false;
                    }
                }
                return true;
            });
        } finally {
            running.set(false);
            sampler.join(5_000);
        }
        for (int t = 1; t < 5; t++) {
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < 80; i++) {
                expected.add(i);
            }
            String id = five.get(t).id();
            await().atMost(CONVERGE).untilAsserted(() -> assertThat(received.get(id)).isEqualTo(expected));
        }
        assertThat(notAlive).as("nodes declared dead or left during rotation").isEmpty();
        for (ClusterNode n : five) {
            assertThat(n.gossipStats().encryptionDropped()).as("%s dropped gossip for want of a key", n.id()).isZero();
            assertThat(n.members()).allMatch(m -> m.state() == MembershipState.ALIVE);
        }
    }

    @Test
    void aPlaintextPacketIsDroppedAndCountedAndAStrangerCannotUseTheKeyringEvent() throws Exception {
        List<ClusterNode> five = startFive(Keyring.encodeKey(Keyring.generateKey()));
        ClusterNode target = five.get(1);
        long before = target.gossipStats().encryptionDropped();
        byte[] ping = Packets.wrap(Codec.encode(new Message.Ping(7, target.id(), new byte[] {127, 0, 0, 1}, 1,
                "stranger")), false, WireOptions.DEFAULT);
        try (DatagramSocket s = new DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            s.send(new DatagramPacket(ping, ping.length, target.gossipAddress()));
        }
        await().atMost(CONVERGE).until(() -> target.gossipStats().encryptionDropped() > before);
        // The keyring's event is reserved: an application handler cannot take it over.
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> target.registerHandler(
                io.hacluster.security.ClusterKeyring.EVENT, in -> { })).isInstanceOf(IllegalArgumentException.class);
    }
}
