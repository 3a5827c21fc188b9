package io.hacluster.messaging;

/**
 * Fault injection on the streaming connections of one messenger, for tests and drills. A cut
 * connection is reset abruptly (TCP RST, no goodbye) and stays down, in both directions, until
 * restored: this messenger neither dials nor accepts that peer meanwhile. Reliable messages wait
 * in the peer's bounded queue and are retransmitted after the restore.
 */
public interface StreamFaults {

    /** Resets the connection to {@code nodeId} and keeps it down until {@link #restore}. */
    void cut(String nodeId);

    /** Allows the connection to {@code nodeId} again; the dialing side reconnects at once. */
    void restore(String nodeId);

    /** Whether the connection to {@code nodeId} is currently cut. */
    boolean isCut(String nodeId);
}
