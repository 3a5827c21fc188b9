package io.hacluster.election;

import java.util.Optional;

/**
 * One change of the leader in this node's view, as handed to leader listeners.
 *
 * @param leader the leader from now on; empty while there is none (between a crash and the next
 *     COORDINATOR, with a lost lease or quorum)
 * @param local whether this node is the leader now
 * @param cause why it changed: {@code start}, {@code crash}, {@code leave}, {@code takeover},
 *     {@code lease lost}, {@code quorum lost}, {@code leader runs again}, {@code elected},
 *     {@code reasserted} or {@code close}; for a new leader, the event that ended the previous
 *     leadership (docs/election.md)
 */
public record LeaderChange(Optional<LeaderInfo> leader, boolean local, String cause) {
}
