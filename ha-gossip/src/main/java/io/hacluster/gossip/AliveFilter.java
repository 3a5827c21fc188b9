package io.hacluster.gossip;

/**
 * Vets every alive message before it changes the local view (memberlist's
 * {@code AliveDelegate}). Rejecting a peer, for example one that belongs to another cluster,
 * keeps it out of the member list. Called on the gossip state machine's thread; must be fast.
 */
@FunctionalInterface
public interface AliveFilter {

    /** True to accept {@code candidate}; false drops the alive message (counted and logged). */
    boolean accept(Member candidate);
}
