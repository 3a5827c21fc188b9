package io.hacluster.gossip;

/** How one {@linkplain Memberlist#probeCrash crash-evidence probe} ended. */
public enum CrashProbeResult {
    /**
     * Every connection attempt was refused and no ack came by any path (direct, TCP, indirect):
     * the node was declared dead at once through the ordinary dead message (by this node, or
     * by another whose dead message arrived while this probe ran).
     */
    DEAD,
    /** An ack came: the node is alive; nothing changed. */
    ALIVE,
    /**
     * No ack, but a connection was accepted or timed out (a stalled process, a lost host, a
     * partition), or the node changed while being probed: nothing changed, and the ordinary
     * probe and suspicion path decides, in its ordinary time.
     */
    NO_EVIDENCE,
    /**
     * Not probed: fast crash detection is off, the node is unknown, already dead or left, is this
     * node, or was probed this way less than a probe interval ago.
     */
    SKIPPED
}
