package io.hacluster.gossip;

/**
 * Membership events (memberlist's {@code EventDelegate}, plus suspicion, recovery and
 * forgetting, which memberlist does not report). Every change of a member's state or metadata
 * produces exactly one event, in the order the state machine made the changes, never
 * concurrently: all calls come from the gossip state machine's thread (the {@link Scheduler}).
 *
 * <p><b>Ordering guarantee:</b> a listener is called <em>before</em> the change becomes visible
 * through {@link Memberlist#members()} and {@link Memberlist#member(String)}. So anything a
 * listener updates (a messenger's peer table, an election) already knows a state that any thread
 * can observe there: one membership truth, no window in which the two disagree. A listener that
 * reads {@code members()} itself sees the state before the change.
 *
 * <p>Implementations must return quickly and must not block or call blocking {@link Memberlist}
 * methods; hand slow work to another executor. An exception thrown by a listener is logged and
 * does not stop the state change.
 */
public interface MembershipListener {

    /** A member became alive: first seen, or back from dead or left (with a higher incarnation). */
    default void onJoin(Member member) {
    }

    /** A member was declared dead or left gracefully; {@link Member#state()} tells which. */
    default void onLeave(Member member) {
    }

    /**
     * A live member's metadata changed (it stays alive or suspect). An address change only
     * happens to a dead or departed member coming back, which is {@link #onJoin}.
     */
    default void onUpdate(Member member) {
    }

    /** An alive member became suspect: it missed its probes and may be declared dead soon. */
    default void onSuspect(Member member) {
    }

    /** A suspect member refuted the suspicion: it is alive again (possibly with new metadata). */
    default void onRecover(Member member) {
    }

    /**
     * A dead or left member was forgotten (GossipToTheDeadTime after it went): from now on
     * {@link Memberlist#member(String)} returns null for it.
     */
    default void onForget(Member member) {
    }
}
