package io.hacluster.election;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Demonstrates a liveness bug: the lowest eligible node ("m") runs at a stale epoch (it restarted
 * without a database), and a lower job-only node ("a", RunScheduler false) answers its ELECTION
 * with the current epoch, as every node answers a stale message. onAnswer takes any ANSWER from a
 * lower id for the bully's "I take over" and cancels the candidacy, but "a" never runs: no node
 * ever leads until the membership changes.
 */
class ElectionStaleAnswerFromJobNodeTest {

    private final Election election = new Election("m", "stale-answer-test", true, 0, LeaseSettings.defaults(), null,
            (target, bytes) -> CompletableFuture.completedFuture(null), new CopyOnWriteArrayList<>());

    @AfterEach
    void close() {
        election.close();
    }

    @Test
    void aStaleAnswerFromALowerJobOnlyNodeDoesNotLeaveTheClusterWithoutALeader() {
        election.memberAlive("a", false);  // a lower id that may not lead
        election.start();                  // "m" is the lowest eligible: ELECTION(1) to "a", declares after 250 ms
        election.receive("a", ElectionMessage.answer(10).encode());  // "a" has seen epoch 10: stale, answered
        await().atMost(Duration.ofSeconds(10)).until(election::isLeader);  // fails: "m" never leads
    }
}
