package io.hacluster.gossip;

/**
 * Order of incarnation numbers. memberlist sends them as uint32 and compares them as plain
 * integers, so an accusation at 2^32-1 can never be refuted: the refutation wraps to 0, which
 * every peer then ignores, and the accused node stays dead for good. One forged packet was
 * enough.
 *
 * <p>Here known nodes compare by serial-number arithmetic (RFC 1982) on 32 bits: {@code a} is
 * newer than {@code b} when {@code (a - b) mod 2^32} lies in {@code [1, 2^31)}. For every pair of
 * incarnations a real cluster produces (small numbers, growing by small steps) this is exactly
 * memberlist's order, so the wire and the behaviour against serf are unchanged; what differs is
 * that a refutation always orders after the accusation it answers, wrap or no wrap, so a victim
 * recovers as soon as the forger stops. A refutation never produces 0, because a node this
 * cluster has forgotten is admitted again only with an incarnation above 0 (as in memberlist).
 *
 * <p>Against serf or Go memberlist peers, which keep the plain order, a wrapped refutation still
 * loses; encryption is what closes the attack there (docs/security.md).
 */
final class Incarnations {

    private static final long MASK = 0xFFFF_FFFFL;
    private static final long HALF = 1L << 31;

    private Incarnations() {
    }

    /** True when {@code a} is strictly newer than {@code b} (both unsigned 32-bit values). */
    static boolean newer(long a, long b) {
        long d = (a - b) & MASK;
        return d != 0 && d < HALF;
    }

    /** True when {@code a} is strictly older than {@code b}. */
    static boolean older(long a, long b) {
        return newer(b, a);
    }

    /** The incarnation a refutation of {@code accused} uses when ours is {@code current}: newer than both, never 0. */
    static long refuting(long current, long accused) {
        long next = (current + 1) & MASK;
        if (!newer(next, accused)) {
            next = (accused + 1) & MASK;
        }
        return next == 0 ? 1 : next;
    }
}
