package io.hacluster.election;

/**
 * The local monotonic clock the lease holder measures its renew deadline on. Never the wall
 * clock: a wall-clock step (NTP, an operator) must neither extend nor cut a leadership. Tests
 * inject one they can move.
 */
@FunctionalInterface
interface MonotonicClock {

    /** The JVM's monotonic clock, {@link System#nanoTime()}. */
    MonotonicClock SYSTEM = System::nanoTime;

    /** Nanoseconds from an arbitrary origin; only differences between two readings mean anything. */
    long nanoTime();
}
