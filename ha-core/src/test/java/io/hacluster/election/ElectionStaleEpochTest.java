package io.hacluster.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One node's state machine fed by the test instead of gossip and the messenger (the sender only
 * records what would travel): stale-epoch messages are ignored and answered with the current
 * epoch, a higher id's COORDINATOR makes the lower node take over above it.
 */
class ElectionStaleEpochTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private final List<Map.Entry<String, ElectionMessage>> sent = new CopyOnWriteArrayList<>();
    private final Election election = new Election("m", "stale-test", true, 0, LeaseSettings.defaults(), null,
            (target, bytes) -> {
                sent.add(Map.entry(target, ElectionMessage.decode(bytes)));
                return CompletableFuture.completedFuture(null);
            }, new CopyOnWriteArrayList<>());

    @AfterEach
    void close() {
        election.close();
    }

    private long leaderEpoch() {
        return election.leader().filter(l -> l.id().equals("m")).map(LeaderInfo::epoch).orElse(-1L);
    }

    private boolean answered(String target, long epoch) {
        return sent.stream().anyMatch(e -> e.getKey().equals(target) && e.getValue().kind() == ElectionMessage.Kind.ANSWER
                && e.getValue().epoch() == epoch);
    }

    @Test
    void staleMessagesAreIgnoredAndAnsweredWithTheCurrentEpoch() {
        election.memberAlive("z", true);
        election.start();
        await().atMost(WAIT).until(election::isLeader);
        assertThat(leaderEpoch()).isEqualTo(1);

        // a higher id that declared at a higher epoch: the lower node takes over above it
        election.receive("z", ElectionMessage.coordinator(new LeaderInfo("z", 7, 0, Instant.EPOCH)).encode());
        await().atMost(WAIT).until(() -> leaderEpoch() == 8);

        // stale: neither a lower id's ELECTION nor a COORDINATOR below epoch 8 changes anything
        election.receive("a", ElectionMessage.election(2).encode());
        election.receive("z", ElectionMessage.coordinator(new LeaderInfo("z", 3, 0, Instant.EPOCH)).encode());
        await().atMost(WAIT).until(() -> answered("a", 8) && answered("z", 8));
        assertThat(election.isLeader()).isTrue();
        assertThat(leaderEpoch()).isEqualTo(8);

        // not stale: a lower id's ELECTION above it makes this leader step down at once
        election.receive("a", ElectionMessage.election(9).encode());
        await().atMost(WAIT).until(() -> !election.isLeader());
        assertThat(election.leader()).isEmpty();
    }
}
