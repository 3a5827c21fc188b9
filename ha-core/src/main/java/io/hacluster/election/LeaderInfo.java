package io.hacluster.election;

import java.time.Instant;
import java.util.Objects;

/**
 * The cluster leader as this node knows it; every node that accepted the same COORDINATOR holds an
 * equal value, since all fields come from the winner.
 *
 * @param id the leader's node id
 * @param epoch the election epoch the leader won (only grows, across restarts too with a database)
 * @param fencingToken the token of the leader's lease; 0 without a database. Writes that a deposed
 *     leader must not make carry it (see docs/election.md)
 * @param since wall-clock time the leader declared itself, by its own clock: for display only,
 *     never compare it with another clock or decide anything with it
 */
public record LeaderInfo(String id, long epoch, long fencingToken, Instant since) {

    public LeaderInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(since, "since");
    }
}
