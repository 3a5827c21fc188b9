package io.hacluster.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hacluster.ClusterMessage;
import io.hacluster.SendType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class MessengerBasicsTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void reliableBroadcastReachesEveryPeerAndWaitsForHandlers() throws Exception {
        try (Nodes nodes = Nodes.start(3, b -> b)) {
            CountDownLatch release = new CountDownLatch(1);
            List<String> seen = new CopyOnWriteArrayList<>();
            for (int i = 1; i < 3; i++) {
                Messenger m = nodes.get(i);
                m.registerHandler("inv", in -> {
                    release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
                    seen.add(m.nodeId() + ":" + in.senderId() + ":" + new String(in.data(), StandardCharsets.UTF_8)
                            + ":" + Thread.currentThread().getName());
                });
            }
            CompletableFuture<SendResult> f = nodes.get(0).send(
                    ClusterMessage.reliable("inv", utf8("k1")).waitingForAll(true));
            // the acknowledgement follows the handler, so the future cannot complete before release
            await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> !f.isDone());
            release.countDown();
            f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(seen).hasSize(2).allSatisfy(s -> assertThat(s).contains(":node-a:k1:ha-node-"));
            assertThat(seen).anySatisfy(s -> assertThat(s).startsWith("node-b:").contains("-handler-"));
            assertThat(seen).anySatisfy(s -> assertThat(s).startsWith("node-c:").contains("-handler-"));
        }
    }

    @Test
    void laterRegistrationReplacesAndUnknownEventsAreCountedButAcknowledged() throws Exception {
        try (Nodes nodes = Nodes.start(2, b -> b)) {
            List<String> got = new CopyOnWriteArrayList<>();
            nodes.get(1).registerHandler("e", in -> got.add("first"));
            nodes.get(1).registerHandler("e", in -> got.add("second"));
            nodes.get(0).sendTo("node-b", ClusterMessage.reliable("e", null).waitingForAll(true))
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS);
            nodes.get(0).sendTo("node-b", ClusterMessage.reliable("nobody-listens", null).waitingForAll(true))
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(got).containsExactly("second");
            assertThat(nodes.get(1).stats().unknownEvents()).isEqualTo(1);
        }
    }

    @Test
    void propsAndLargeCompressedPayloadsTravel() throws Exception {
        try (Nodes nodes = Nodes.start(2, b -> b.compressionEnabled(true))) {
            CompletableFuture<ClusterMessage> got = new CompletableFuture<>();
            nodes.get(0).registerHandler("big", in -> got.complete(in.message()));
            byte[] big = utf8("x".repeat(200_000));
            nodes.get(1).sendTo("node-a", ClusterMessage.reliable("big", big).withProps(Map.of("PluginID", "p1")));
            ClusterMessage m = got.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(m.data()).isEqualTo(big);
            assertThat(m.props()).containsEntry("PluginID", "p1");
            assertThat(m.sendType()).isEqualTo(SendType.RELIABLE);
        }
    }

    @Test
    void oversizeMessageFailsClearlyOnSend() {
        try (Nodes nodes = Nodes.start(2, b -> b.maxFrameSize(64 * 1024).maxPendingBytesPerPeer(1 << 20))) {
            CompletableFuture<SendResult> f = nodes.get(0).sendTo("node-b", ClusterMessage.reliable("big", new byte[100_000]));
            assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(FrameTooLargeException.class)
                    .hasMessageContaining("MaxFrameSize");
        }
    }

    @Test
    void requestGetsReplyOrRemoteError() throws Exception {
        try (Nodes nodes = Nodes.start(2, b -> b)) {
            nodes.get(1).registerHandler("echo", in -> in.reply(utf8("re:" + new String(in.data(), StandardCharsets.UTF_8))));
            nodes.get(1).registerHandler("boom", in -> {
                throw new IllegalStateException("kaput");
            });
            byte[] r = nodes.get(0).request("node-b", "echo", utf8("hi"), WAIT).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(new String(r, StandardCharsets.UTF_8)).isEqualTo("re:hi");
            assertThatThrownBy(() -> nodes.get(0).request("node-b", "boom", null, WAIT).get(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .hasCauseInstanceOf(RemoteHandlerException.class).hasMessageContaining("kaput");
            assertThatThrownBy(() -> nodes.get(0).request("node-b", "missing", null, WAIT).get(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .hasCauseInstanceOf(RemoteHandlerException.class).hasMessageContaining("no handler");
            // the reverse direction (acceptor to dialer) works the same
            nodes.get(0).registerHandler("echo", in -> in.reply(in.data()));
            assertThat(nodes.get(1).request("node-a", "echo", utf8("x"), WAIT).get(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .isEqualTo(utf8("x"));
        }
    }

    @Test
    void requestWithoutReplyTimesOut() {
        try (Nodes nodes = Nodes.start(2, b -> b)) {
            nodes.get(1).registerHandler("silent", in -> { });
            CompletableFuture<byte[]> f = nodes.get(0).request("node-b", "silent", null, Duration.ofMillis(300));
            assertThatThrownBy(() -> f.get(WAIT.toSeconds(), TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
        }
    }

    @Test
    void sendToDeadOrUnknownPeerFailsClearly() {
        try (Nodes nodes = Nodes.start(2, b -> b)) {
            nodes.get(0).peerDead("node-b");
            assertThatThrownBy(() -> nodes.get(0).sendTo("node-b", ClusterMessage.reliable("e", null)).get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(PeerUnavailableException.class).hasMessageContaining("dead");
            assertThatThrownBy(() -> nodes.get(0).sendTo("node-z", ClusterMessage.reliable("e", null)).get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(PeerUnavailableException.class).hasMessageContaining("unknown");
        }
    }

    @Test
    void suspectPeerQueuesUpToCapacityThenFailsAndDeathFailsTheQueue() throws Exception {
        try (Nodes nodes = Nodes.start(2, b -> b.maxPendingPerPeer(5))) {
            Messenger a = nodes.get(0);
            a.faults().cut("node-b");
            a.peerSuspect("node-b");
            await().atMost(WAIT).until(() -> a.connectedPeers().isEmpty());
            CompletableFuture<?>[] acks = new CompletableFuture<?>[5];
            for (int i = 0; i < 5; i++) {
                acks[i] = a.sendTo("node-b", ClusterMessage.reliable("e", null).waitingForAll(true));
            }
            assertThat(a.pendingCount("node-b")).isEqualTo(5);
            assertThatThrownBy(() -> a.sendTo("node-b", ClusterMessage.reliable("e", null)).get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(QueueFullException.class).hasMessageContaining("full");
            assertThat(a.stats().queueFullRejections()).isEqualTo(1);
            a.peerDead("node-b");
            for (CompletableFuture<?> f : acks) {
                assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(PeerUnavailableException.class);
            }
            assertThat(a.pendingCount("node-b")).isZero();
        }
    }

    @Test
    void queuedMessagesToASuspectPeerAreDeliveredAfterRestore() throws Exception {
        try (Nodes nodes = Nodes.start(2, b -> b)) {
            Messenger a = nodes.get(0);
            List<String> got = new CopyOnWriteArrayList<>();
            nodes.get(1).registerHandler("e", in -> got.add(new String(in.data(), StandardCharsets.UTF_8)));
            await().atMost(WAIT).until(() -> a.connectedPeers().contains("node-b"));
            a.faults().cut("node-b");
            a.peerSuspect("node-b");
            CompletableFuture<SendResult> f = a.sendTo("node-b", ClusterMessage.reliable("e", utf8("1")).waitingForAll(true));
            a.sendTo("node-b", ClusterMessage.reliable("e", utf8("2")));
            assertThat(f).isNotDone();
            a.faults().restore("node-b");
            a.peerAlive("node-b", nodes.get(1).localAddress());
            f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            await().atMost(WAIT).until(() -> got.size() == 2);
            assertThat(got).containsExactly("1", "2");
        }
    }

    @Test
    void gatherCollectsEveryReplyIncludingSelf() throws Exception {
        try (Nodes nodes = Nodes.start(3, b -> b)) {
            for (Messenger m : nodes.all) {
                m.registerHandler("stats", in -> in.reply(utf8(m.nodeId())));
            }
            Map<String, NodeReply> r = nodes.get(1).gather("stats", null, WAIT, true).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(r).containsOnlyKeys("node-a", "node-b", "node-c");
            r.forEach((id, reply) -> assertThat(new String(reply.data(), StandardCharsets.UTF_8)).isEqualTo(id));
        }
    }

    @Test
    void gatherGivesAnErrorEntryForANodeThatDiesMidGather() throws Exception {
        try (Nodes nodes = Nodes.start(3, b -> b)) {
            CountDownLatch entered = new CountDownLatch(1);
            nodes.get(0).registerHandler("stats", in -> in.reply(utf8("a")));
            nodes.get(1).registerHandler("stats", in -> in.reply(utf8("b")));
            nodes.get(2).registerHandler("stats", in -> entered.countDown()); // dies before replying
            CompletableFuture<Map<String, NodeReply>> f = nodes.get(0).gather("stats", null, Duration.ofSeconds(60), false);
            assertThat(entered.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            nodes.get(2).closeAbruptly();  // a crash: no drain
            nodes.get(0).peerDead("node-c"); // what gossip reports a moment later
            Map<String, NodeReply> r = f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(r).containsOnlyKeys("node-b", "node-c");
            assertThat(r.get("node-b").isOk()).isTrue();
            assertThat(r.get("node-c").error()).isInstanceOf(PeerUnavailableException.class);
        }
    }

    @Test
    void bestEffortUsesTheChannelWhenItFitsElseTheStream() throws Exception {
        List<byte[]> packets = new CopyOnWriteArrayList<>();
        BestEffortChannel udp = new BestEffortChannel() {
            @Override
            public int maxPacketSize() {
                return 1400;
            }

            @Override
            public boolean trySend(String nodeId, byte[] packet) {
                return packets.add(packet);
            }
        };
        Messenger a = new Messenger(Nodes.config("node-a").build(), udp);
        Messenger b = new Messenger(Nodes.config("node-b").build());
        try (a; b) {
            a.start();
            b.start();
            a.peerAlive("node-b", b.localAddress());
            b.peerAlive("node-a", a.localAddress());
            List<String> got = new CopyOnWriteArrayList<>();
            b.registerHandler("status", in -> got.add(in.message().sendType() + ":" + in.data().length));
            a.send(ClusterMessage.bestEffort("status", new byte[100])).get(5, TimeUnit.SECONDS);
            assertThat(packets).hasSize(1);
            b.receiveBestEffort(packets.get(0)); // what the facade does with a gossip user message
            byte[] incompressible = new byte[5000];
            new java.util.Random(7).nextBytes(incompressible); // zeros would deflate into one packet
            a.send(ClusterMessage.bestEffort("status", incompressible)).get(5, TimeUnit.SECONDS);
            await().atMost(WAIT).untilAsserted(() -> assertThat(got).hasSize(2));
            assertThat(got).containsExactlyInAnyOrder("BEST_EFFORT:100", "BEST_EFFORT:5000");
            assertThat(a.stats().bestEffortViaChannel()).isEqualTo(1);
            assertThat(packets).hasSize(1);
            b.receiveBestEffort(new byte[] {1, 2, 3});
            assertThat(b.stats().bestEffortDropped()).isEqualTo(1);
        }
    }

    @Test
    void restartedSenderIsNotMistakenForDuplicates() throws Exception {
        try (Nodes nodes = Nodes.start(2, b -> b)) {
            Messenger b = nodes.get(1);
            List<String> got = new CopyOnWriteArrayList<>();
            b.registerHandler("e", in -> got.add(new String(in.data(), StandardCharsets.UTF_8)));
            Messenger a = nodes.get(0);
            for (int i = 0; i < 3; i++) {
                a.sendTo("node-b", ClusterMessage.reliable("e", utf8("old" + i)).waitingForAll(true)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
            a.close();
            Messenger a2 = new Messenger(Nodes.config("node-a").build());
            nodes.all.set(0, a2);
            a2.start();
            a2.peerAlive("node-b", b.localAddress());
            b.peerAlive("node-a", a2.localAddress());
            a2.sendTo("node-b", ClusterMessage.reliable("e", utf8("new0")).waitingForAll(true)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(got).containsExactly("old0", "old1", "old2", "new0");
        }
    }

    @Test
    void closeFailsPendingWork() throws Exception {
        Nodes nodes = Nodes.start(2, b -> b);
        Messenger a = nodes.get(0);
        a.faults().cut("node-b");
        CompletableFuture<SendResult> f = a.sendTo("node-b", ClusterMessage.reliable("e", null).waitingForAll(true));
        nodes.close();
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(MessengerClosedException.class);
        await().atMost(WAIT).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("ha-node-") && t.isAlive()));
    }
    @Test
    void membershipLagInEitherDirectionDelaysButLosesNothing() throws Exception {
        Messenger a = new Messenger(Nodes.config("node-a").build());
        Messenger b = new Messenger(Nodes.config("node-b").build());
        try (a; b) {
            a.start();
            b.start();
            List<String> atA = new CopyOnWriteArrayList<>();
            a.registerHandler("e", in -> atA.add(in.senderId()));
            b.registerHandler("echo", in -> in.reply(in.data()));
            // node-b heard of node-a first; node-a (the dialer) has not heard of node-b yet
            b.peerAlive("node-a", a.localAddress());
            CompletableFuture<SendResult> queued = b.sendTo("node-a", ClusterMessage.reliable("e", null).waitingForAll(true));
            await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> !queued.isDone());
            assertThat(b.pendingCount("node-a")).isEqualTo(1);
            // node-a learns of node-b and dials; node-b's queued message is delivered
            a.peerAlive("node-b", b.localAddress());
            queued.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(atA).containsExactly("node-b");
            // a fresh node-b that node-a knows but that has not heard of node-a still answers it,
            // over the connection node-a dialed
            b.close();
            Messenger b2 = new Messenger(Nodes.config("node-b").build());
            try (b2) {
                b2.start();
                b2.registerHandler("echo", in -> in.reply(in.data()));
                a.peerAlive("node-b", b2.localAddress());
                assertThat(a.request("node-b", "echo", utf8("lag"), WAIT).get(WAIT.toSeconds(), TimeUnit.SECONDS))
                        .isEqualTo(utf8("lag"));
            }
        }
    }

    @Test
    void leftPeerStaysGoneUntilGossipForgetsIt() throws Exception {
        try (Nodes nodes = Nodes.start(2, b -> b)) {
            Messenger a = nodes.get(0);
            await().atMost(WAIT).until(() -> a.connectedPeers().contains("node-b"));
            a.peerLeft("node-b");
            await().atMost(WAIT).until(() -> a.connectedPeers().isEmpty());
            assertThatThrownBy(() -> a.sendTo("node-b", ClusterMessage.reliable("e", null)).get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(PeerUnavailableException.class).hasMessageContaining("has left");
            a.peerForgotten("node-b");
            assertThatThrownBy(() -> a.sendTo("node-b", ClusterMessage.reliable("e", null)).get(5, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(PeerUnavailableException.class).hasMessageContaining("unknown");
            Map<String, NodeReply> r = a.gather("stats", null, Duration.ofSeconds(1), false).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(r).isEmpty();
        }
    }
    @Test
    void broadcastFailureNamesTheTargetThatFailedWhileTheOthersDeliver() throws Exception {
        try (Nodes nodes = Nodes.start(3, b -> b.maxPendingPerPeer(1))) {
            Messenger a = nodes.get(0);
            List<String> atB = new CopyOnWriteArrayList<>();
            nodes.get(1).registerHandler("e", in -> atB.add(in.senderId()));
            await().atMost(WAIT).until(() -> a.connectedPeers().size() == 2);
            a.faults().cut("node-c");
            await().atMost(WAIT).until(() -> !a.connectedPeers().contains("node-c"));
            a.sendTo("node-c", ClusterMessage.reliable("e", null)); // takes node-c's only slot
            CompletableFuture<SendResult> f = a.send(ClusterMessage.reliable("e", null).waitingForAll(true));
            assertThatThrownBy(() -> f.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .hasCauseInstanceOf(MessagingException.class)
                    .hasMessageContaining("failed for [node-c] of 2 targets")
                    .hasMessageContaining("queue to node-c is full");
            assertThat(atB).containsExactly("node-a"); // settled only after node-b's handler ran
        }
    }
}
