package io.hacluster.gossip;

/**
 * Membership events (memberlist's {@code EventDelegate}). Events are delivered in the order the
 * state machine produced them and never concurrently: all calls come from the gossip state
 * machine's thread (the {@link Scheduler}). Implementations must return quickly and must not
 * block or call blocking {@link Memberlist} methods; hand slow work to another executor.
 */
public interface MembershipListener {

    /** A member became alive: first seen, or back from dead/left. */
    default void onJoin(Member member) {
    }

    /** A member was declared dead or left gracefully; {@link Member#state()} tells which. */
    default void onLeave(Member member) {
    }

    /** An alive member's metadata changed. */
    default void onUpdate(Member member) {
    }
}
