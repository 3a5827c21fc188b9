package io.hacluster;

import io.hacluster.gossip.Keyring;
import io.hacluster.gossip.wire.Codec;
import io.hacluster.gossip.wire.Message;
import io.hacluster.gossip.wire.Packets;
import io.hacluster.gossip.wire.WireOptions;
import io.hacluster.identity.NodeMeta;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 11's hijack, against ClusterNodes with gossip encryption on: a stranger on loopback forges
 * a plaintext alive at incarnation 2^32-1 that moves a node's StreamingPort to the stranger's own
 * listener, and a dead at 2^32-1 for the same node. Both are dropped as unreadable and counted;
 * no node's view of the victim changes at all (not even its incarnation: without a key the forged
 * alive would be taken and then refuted, changing it twice), no node dials the stranger, and
 * reliable messages keep reaching the real node.
 */
class ClusterNodeForgedGossipTest {

    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void close() {
        nodes.forEach(ClusterNode::close);
    }

    @Test
    void withEncryptionAForgedAliveCannotMoveAStreamingPortNorAForgedDeadEvict() throws Exception {
        String cluster = TestNodes.clusterName();
        String key = Keyring.encodeKey(Keyring.generateKey());
        List<String> seeds = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ClusterNode n = ClusterNode.builder()
                    .clusterSettings(TestNodes.settings(cluster, seeds).enableExperimentalGossipEncryption(true)
                            .gossipEncryptionKey(key).build())
                    .joinTimeout(Duration.ofSeconds(10))
                    .build();
            nodes.add(n);
            n.start();
            if (seeds.isEmpty()) {
                seeds = List.of("127.0.0.1:" + n.gossipAddress().getPort());
            }
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> nodes.stream().allMatch(n ->
                n.members().stream().filter(m -> m.state() == MembershipState.ALIVE).count() == 3));
        ClusterNode a = nodes.get(0), b = nodes.get(1), victim = nodes.get(2);
        AtomicInteger received = new AtomicInteger();
        victim.registerHandler("probe", in -> received.incrementAndGet());

        AtomicInteger strangerDialled = new AtomicInteger();
        try (ServerSocket trap = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (!trap.isClosed()) {
                    try (Socket s = trap.accept()) {
                        strangerDialled.incrementAndGet();
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            }, "stranger-trap");
            acceptor.setDaemon(true);
            acceptor.start();

            ClusterInfo info = victim.localInfo();
            byte[] evilMeta = new NodeMeta(cluster, victim.id(), info.version(), info.schemaVersion(),
                    info.configHash(), "127.0.0.1", trap.getLocalPort(), true).encode();
            // 2^32-1 as in the issue, and 2^31-1 ahead of the victim: the strongest forgery the
            // serial incarnation order accepts without a key (it would be taken, then refuted).
            long own = victim.members().stream().filter(ClusterMember::local).findFirst().orElseThrow().incarnation();
            List<Message> forged = new ArrayList<>();
            byte[] vsn = new byte[] {1, 5, 2, 0, 0, 0};
            for (int inc : new int[] {0xFFFF_FFFF, (int) (own + (1L << 31) - 1)}) {
                forged.add(new Message.Alive(inc, victim.id(), new byte[] {127, 0, 0, 1},
                        victim.gossipAddress().getPort(), evilMeta, vsn));
                forged.add(new Message.Dead(inc, victim.id(), "stranger"));
            }
            long[] before = {a.gossipStats().encryptionDropped(), b.gossipStats().encryptionDropped()};
            java.util.Map<String, Long> incarnationBefore = new java.util.HashMap<>();
            for (ClusterNode n : nodes) {
                n.members().stream().filter(m -> m.id().equals(victim.id()))
                        .forEach(m -> incarnationBefore.put(n.id(), m.incarnation()));
            }
            for (ClusterNode target : List.of(a, b)) {
                for (Message m : forged) {
                    byte[] packet = Packets.wrap(Codec.encode(m), false, WireOptions.DEFAULT);
                    udp.send(new DatagramPacket(packet, packet.length, target.gossipAddress()));
                }
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> a.gossipStats().encryptionDropped() >= before[0] + 4
                    && b.gossipStats().encryptionDropped() >= before[1] + 4);

            for (int i = 0; i < 20; i++) {
                a.sendTo(victim.id(), ClusterMessage.reliable("probe", new byte[] {(byte) i})).get(30, TimeUnit.SECONDS);
                b.sendTo(victim.id(), ClusterMessage.reliable("probe", new byte[] {(byte) i})).get(30, TimeUnit.SECONDS);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> received.get() == 40);
            assertThat(strangerDialled.get()).as("connections to the stranger's port").isZero();
            for (ClusterNode n : nodes) {
                assertThat(n.members()).filteredOn(m -> m.id().equals(victim.id()))
                        .singleElement().extracting(ClusterMember::incarnation)
                        .as("%s's view of the victim's incarnation", n.id()).isEqualTo(incarnationBefore.get(n.id()));
            }
        }
        for (ClusterNode n : nodes) {
            assertThat(n.members()).allMatch(m -> m.state() == MembershipState.ALIVE);
            assertThat(n.members()).filteredOn(m -> m.id().equals(victim.id()))
                    .allMatch(m -> m.incarnation() != 0xFFFF_FFFFL);
        }
    }
}
