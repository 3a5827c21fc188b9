package io.hacluster.gossip;

/**
 * Told when an alive message names a known, live member but carries another address
 * (memberlist's {@code ConflictDelegate}): two processes claim one name. The existing entry is
 * kept. Called on the gossip state machine's thread.
 */
@FunctionalInterface
public interface ConflictListener {

    /** {@code existing} is what the local view holds; {@code other} is the claimant. */
    void onConflict(Member existing, Member other);
}
