package io.hacluster.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.ClusterMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A departed peer stays departed, every future ends by its deadline, and what a send reports is
 * unambiguous. node-a sorts lowest, so it dials node-b: the case where a leaving dialer's late
 * redial used to bring it back.
 */
class DepartureAndDeadlineTest {

    private static Throwable causeOf(CompletableFuture<?> f) {
        try {
            f.get(10, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure, got " + f.join());
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("still pending", e);
        }
    }

    @Test
    void aPeerThatLeftStaysGoneThoughItsDialerRedials() throws Exception {
        try (Nodes nodes = Nodes.start(2, c -> c)) {
            Messenger a = nodes.get(0);
            Messenger b = nodes.get(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> b.connectedPeers().contains("node-a"));

            // b hears node-a left; node-a itself (not told anything) keeps redialing b
            b.peerLeft("node-a");
            long handshakesRefusedBefore = b.stats().handshakeRejections();
            await("node-a's redials are refused").atMost(Duration.ofSeconds(10))
                    .until(() -> b.stats().handshakeRejections() > handshakesRefusedBefore + 2);
            assertThat(b.connectedPeers()).doesNotContain("node-a");
            assertThat(causeOf(b.sendTo("node-a", ClusterMessage.reliable("e", new byte[1]))))
                    .isInstanceOf(PeerUnavailableException.class);
            SendResult broadcast = b.send(ClusterMessage.reliable("e", new byte[1]).waitingForAll(true))
                    .get(5, TimeUnit.SECONDS);
            assertThat(broadcast.noTargetsAtAll()).as("a departed peer is no broadcast target").isTrue();

            // gossip reports it alive again (a higher incarnation): it is a peer again
            b.peerAlive("node-a", a.localAddress());
            await().atMost(Duration.ofSeconds(10)).until(() -> b.connectedPeers().contains("node-a"));
            assertThat(b.sendTo("node-a", ClusterMessage.reliable("e", new byte[1]).waitingForAll(true))
                    .get(10, TimeUnit.SECONDS).acknowledged()).containsExactly("node-a");
        }
    }

    @Test
    void messagesQueuedForAPeerFailPromptlyWhenItLeavesAndItsTombstoneGoesWhenGossipForgetsIt() throws Exception {
        try (Nodes nodes = Nodes.start(2, c -> c)) {
            Messenger a = nodes.get(0);
            Messenger b = nodes.get(1);
            CountDownLatch release = new CountDownLatch(1);
            b.registerHandler("slow", in -> {
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            List<CompletableFuture<SendResult>> sent = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                sent.add(a.sendTo("node-b", ClusterMessage.reliable("slow", new byte[] {(byte) i}).waitingForAll(true)));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> a.pendingCount("node-b") == 20);
            long leftAt = System.nanoTime();
            a.peerLeft("node-b");
            for (CompletableFuture<SendResult> f : sent) {
                assertThat(causeOf(f)).isInstanceOf(PeerUnavailableException.class);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - leftAt)).isLessThan(Duration.ofSeconds(2));
            assertThat(a.pendingCount("node-b")).isZero();
            release.countDown();

            a.peerForgotten("node-b");
            assertThat(causeOf(a.sendTo("node-b", ClusterMessage.reliable("e", new byte[1]))))
                    .isInstanceOf(PeerUnavailableException.class).hasMessageContaining("unknown peer");
        }
    }

    @Test
    void noWaitOutlivesTheSendTimeoutWhateverThePeerDoes() throws Exception {
        Duration timeout = Duration.ofMillis(700);
        try (Nodes nodes = Nodes.start(3, c -> c.sendTimeout(timeout))) {
            Messenger a = nodes.get(0);
            CountDownLatch never = new CountDownLatch(1);
            AtomicInteger handled = new AtomicInteger();
            // node-b's handler never returns, so it never acknowledges; node-c is healthy
            nodes.get(1).registerHandler("stuck", in -> {
                handled.incrementAndGet();
                try {
                    never.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            nodes.get(1).registerHandler("ask", in -> {
                try {
                    never.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            nodes.get(2).registerHandler("stuck", in -> { });
            nodes.get(2).registerHandler("ask", in -> in.reply(new byte[] {42}));
            try {
                long t0 = System.nanoTime();
                CompletableFuture<SendResult> one = a.sendTo("node-b", ClusterMessage.reliable("stuck", new byte[1])
                        .waitingForAll(true));
                CompletableFuture<SendResult> all = a.send(ClusterMessage.reliable("stuck", new byte[1])
                        .waitingForAll(true));
                CompletableFuture<byte[]> asked = a.request("node-b", "ask", new byte[0], Duration.ofMinutes(5));
                CompletableFuture<Map<String, NodeReply>> gathered =
                        a.gather("ask", new byte[0], Duration.ofMinutes(5), List.of("node-b", "node-c"));

                assertThat(causeOf(one)).isInstanceOf(DeliveryTimeoutException.class)
                        .hasMessageContaining("node-b").hasMessageContaining("may still be delivered");
                Throwable broadcastFailure = causeOf(all);
                assertThat(broadcastFailure).isInstanceOf(SendFailedException.class);
                SendResult result = ((SendFailedException) broadcastFailure).result();
                assertThat(result.targets()).containsExactlyInAnyOrder("node-b", "node-c");
                assertThat(result.acknowledged()).containsExactly("node-c");
                assertThat(result.failures()).containsOnlyKeys("node-b");
                assertThat(result.failures().get("node-b")).isInstanceOf(DeliveryTimeoutException.class);
                assertThat(causeOf(asked)).isInstanceOf(TimeoutException.class);  // capped at the send timeout
                // a broadcast that reached one target still reports per target
                Throwable oneTargetBroadcast = causeOf(a.send(ClusterMessage.reliable("stuck", new byte[1])
                        .waitingForAll(true), List.of("node-b")));
                assertThat(oneTargetBroadcast).isInstanceOf(SendFailedException.class);
                assertThat(((SendFailedException) oneTargetBroadcast).failures().get("node-b"))
                        .isInstanceOf(DeliveryTimeoutException.class);
                Map<String, NodeReply> replies = gathered.get(10, TimeUnit.SECONDS);
                assertThat(replies.get("node-c").isOk()).isTrue();
                assertThat(replies.get("node-b").isOk()).isFalse();
                // every wait ended within the timeout plus the 50 ms deadline sweep (and scheduling slack)
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(timeout.multipliedBy(8));
                assertThat(a.stats().sendTimeouts()).isGreaterThanOrEqualTo(2);
                assertThat(handled.get()).isGreaterThanOrEqualTo(1);
            } finally {
                never.countDown();
            }
        }
    }

    @Test
    void aBroadcastReportsEachTargetsOutcome() throws Exception {
        try (Nodes nodes = Nodes.start(3, c -> c)) {
            Messenger a = nodes.get(0);
            nodes.get(1).registerHandler("e", in -> { });
            nodes.get(2).registerHandler("e", in -> { });
            SendResult acked = a.send(ClusterMessage.reliable("e", new byte[1]).waitingForAll(true))
                    .get(10, TimeUnit.SECONDS);
            assertThat(acked.targets()).containsExactlyInAnyOrder("node-b", "node-c");
            assertThat(acked.acknowledged()).containsExactlyInAnyOrder("node-b", "node-c");
            assertThat(acked.allAcknowledged()).isTrue();

            SendResult queued = a.send(ClusterMessage.reliable("e", new byte[1])).get(10, TimeUnit.SECONDS);
            assertThat(queued.queued()).containsExactlyInAnyOrder("node-b", "node-c");
            assertThat(queued.acknowledged()).isEmpty();

            // one target unknown to the messenger: the others still get it, the failure names it
            Throwable failure = causeOf(a.send(ClusterMessage.reliable("e", new byte[1]).waitingForAll(true),
                    List.of("node-b", "node-x", "node-c")));
            assertThat(failure).isInstanceOf(SendFailedException.class);
            SendResult partial = ((SendFailedException) failure).result();
            assertThat(partial.acknowledged()).containsExactlyInAnyOrder("node-b", "node-c");
            assertThat(partial.failures()).containsOnlyKeys("node-x");
            assertThat(partial.failures().get("node-x")).isInstanceOf(PeerUnavailableException.class);

            SendResult none = a.send(ClusterMessage.reliable("e", new byte[1]).waitingForAll(true), List.of())
                    .get(1, TimeUnit.SECONDS);
            assertThat(none.noTargetsAtAll()).isTrue();
            assertThat(none.allAcknowledged()).isFalse();
        }
    }

    @Test
    void closeAcknowledgesEveryHandledMessageBeforeItLeaves() throws Exception {
        try (Nodes nodes = Nodes.start(2, c -> c.drainTimeout(Duration.ofSeconds(10)))) {
            Messenger a = nodes.get(0);
            Messenger b = nodes.get(1);
            List<Integer> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
            b.registerHandler("work", in -> {
                try {
                    Thread.sleep(40);  // a handler doing real work while its node shuts down
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                handled.add((int) in.data()[0]);
            });
            List<CompletableFuture<SendResult>> sent = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                sent.add(a.sendTo("node-b", ClusterMessage.reliable("work", new byte[] {(byte) i}).waitingForAll(true)));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> handled.size() >= 3);
            b.close();  // graceful: drains
            a.peerLeft("node-b");  // what gossip tells a when b's leave arrives
            int acked = 0;
            for (int i = 0; i < sent.size(); i++) {
                CompletableFuture<SendResult> f = sent.get(i);
                boolean ok;
                try {
                    f.get(10, TimeUnit.SECONDS);
                    ok = true;
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(PeerUnavailableException.class);
                    ok = false;
                }
                // acknowledged exactly when handled: nothing handled is left unacknowledged, so a
                // restarted node-b is never sent it again
                assertThat(ok).as("message %d: handled %s", i, handled.contains(i)).isEqualTo(handled.contains(i));
                acked += ok ? 1 : 0;
            }
            assertThat(acked).isEqualTo(handled.size()).isGreaterThanOrEqualTo(3);
        }
    }

    @Test
    void aReplyThatArrivesWhileTheRequesterDrainsStillCompletesTheRequest() throws Exception {
        try (Nodes nodes = Nodes.start(2, c -> c.drainTimeout(Duration.ofSeconds(10)))) {
            Messenger a = nodes.get(0);
            nodes.get(1).registerHandler("ask", in -> {
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                in.reply(new byte[] {7});
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> a.connectedPeers().contains("node-b"));
            CompletableFuture<byte[]> asked = a.request("node-b", "ask", new byte[0], Duration.ofSeconds(20));
            a.close();  // the drain waits for the request's acknowledgement; the reply comes with it
            assertThat(asked.get(10, TimeUnit.SECONDS)).containsExactly(7);
        }
    }

    @Test
    void sendsAndRequestsToThisNodeItselfEndByTheDeadlineAndOnClose() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        try (Nodes nodes = Nodes.start(1, c -> c.sendTimeout(Duration.ofMillis(500)).drainTimeout(Duration.ofMillis(200)))) {
            Messenger a = nodes.get(0);
            a.registerHandler("stuck", in -> {
                try {
                    never.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            CompletableFuture<SendResult> toSelf = a.sendTo("node-a", ClusterMessage.reliable("stuck", new byte[1])
                    .waitingForAll(true));
            assertThat(causeOf(toSelf)).isInstanceOf(DeliveryTimeoutException.class);
            CompletableFuture<byte[]> askSelf = a.request("node-a", "stuck", new byte[0], Duration.ofMinutes(1));
            assertThat(causeOf(askSelf)).isInstanceOf(TimeoutException.class);

            CompletableFuture<SendResult> pendingAtClose = a.sendTo("node-a", ClusterMessage.reliable("stuck", new byte[1])
                    .waitingForAll(true));
            CompletableFuture<byte[]> askedAtClose = a.request("node-a", "stuck", new byte[0], Duration.ofMinutes(1));
            a.close();
            assertThat(causeOf(pendingAtClose)).isInstanceOf(MessengerClosedException.class);
            assertThat(causeOf(askedAtClose)).isInstanceOf(MessengerClosedException.class);
        } finally {
            never.countDown();
        }
    }

    @Test
    void aSecondCloseWaitsForTheFirstSoNothingHandledGoesUnacknowledged() throws Exception {
        try (Nodes nodes = Nodes.start(2, c -> c.drainTimeout(Duration.ofSeconds(10)))) {
            Messenger a = nodes.get(0);
            Messenger b = nodes.get(1);
            List<Integer> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
            b.registerHandler("work", in -> {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                handled.add((int) in.data()[0]);
            });
            List<CompletableFuture<SendResult>> sent = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                sent.add(a.sendTo("node-b", ClusterMessage.reliable("work", new byte[] {(byte) i}).waitingForAll(true)));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> handled.size() >= 2);
            // whichever starts second must neither cut the first one's drain short nor return before
            // the messenger is stopped
            CompletableFuture<Boolean> first = CompletableFuture.supplyAsync(() -> {
                b.close();
                return b.connectedPeers().isEmpty();
            });
            CompletableFuture<Boolean> second = CompletableFuture.supplyAsync(() -> {
                b.close();
                return b.connectedPeers().isEmpty();
            });
            assertThat(first.get(30, TimeUnit.SECONDS)).as("stopped when the first close returned").isTrue();
            assertThat(second.get(30, TimeUnit.SECONDS)).as("stopped when the second close returned").isTrue();
            for (int i = 0; i < sent.size(); i++) {
                boolean ok = !failed(sent.get(i));
                assertThat(ok).as("message %d acknowledged exactly when handled", i).isEqualTo(handled.contains(i));
            }
        }
    }

    @Test
    void closeCalledFromAHandlerDoesNotWaitForThatHandler() throws Exception {
        try (Nodes nodes = Nodes.start(2, c -> c.drainTimeout(Duration.ofSeconds(20)))) {
            Messenger a = nodes.get(0);
            Messenger b = nodes.get(1);
            CompletableFuture<Long> closedAfter = new CompletableFuture<>();
            b.registerHandler("stop", in -> {
                long t0 = System.nanoTime();
                b.close();
                closedAfter.complete(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            });
            a.sendTo("node-b", ClusterMessage.reliable("stop", new byte[1]));
            // far below the 20 s drain timeout: the drain does not wait for the handler that called it
            assertThat(closedAfter.get(15, TimeUnit.SECONDS)).isLessThan(15_000);
        }
    }

    @Test
    void aLeaversGoodbyeFailsAtOnceWhatItDidNotHandle() throws Exception {
        try (Nodes nodes = Nodes.start(2, c -> c.drainTimeout(Duration.ofSeconds(10)))) {
            Messenger a = nodes.get(0);
            Messenger b = nodes.get(1);
            List<Integer> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
            b.registerHandler("work", in -> {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                handled.add(java.nio.ByteBuffer.wrap(in.data()).getInt());
            });
            List<CompletableFuture<SendResult>> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
            java.util.concurrent.atomic.AtomicBoolean sending = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread sender = new Thread(() -> {
                for (int i = 0; i < 100_000 && sending.get(); i++) {
                    sent.add(a.sendTo("node-b", ClusterMessage.reliable("work",
                            java.nio.ByteBuffer.allocate(4).putInt(i).array()).waitingForAll(true)));
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "test-sender");
            sender.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> handled.size() >= 20);
            b.close();  // a is never told by gossip here: only b's GOODBYE can settle what b dropped
            sending.set(false);
            sender.join(10_000);
            int acked = 0;
            int failed = 0;
            for (int i = 0; i < sent.size(); i++) {
                CompletableFuture<SendResult> f = sent.get(i);
                boolean ok = !failed(f);
                if (!ok) {
                    Throwable cause = f.handle((r, e) -> e).join();
                    assertThat(cause).isInstanceOf(PeerUnavailableException.class);
                    failed++;
                } else {
                    acked++;
                }
                assertThat(ok).as("message %d acknowledged exactly when handled", i).isEqualTo(handled.contains(i));
            }
            assertThat(acked).isGreaterThanOrEqualTo(20);
            assertThat(failed).as("messages sent while b drained or after it left").isGreaterThan(0);
            assertThat(causeOf(a.sendTo("node-b", ClusterMessage.reliable("work", new byte[4]))))
                    .isInstanceOf(PeerUnavailableException.class).hasMessageContaining("leaving");
        }
    }

    /** Waits (bounded) for {@code f}; true if it failed. */
    private static boolean failed(CompletableFuture<?> f) {
        try {
            f.get(10, TimeUnit.SECONDS);
            return false;
        } catch (ExecutionException e) {
            return true;
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("still pending", e);
        }
    }
}
