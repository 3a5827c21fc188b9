package io.hacluster.gossip;

/**
 * Receives user messages sent with {@link Memberlist#sendBestEffort} or
 * {@link Memberlist#sendReliable} by other nodes (memberlist's {@code NotifyMsg}). Called on the
 * gossip state machine's thread: copy or hand off, never block. The array is owned by the
 * listener.
 */
@FunctionalInterface
public interface MessageListener {

    /** One user message payload. */
    void onMessage(byte[] payload);
}
