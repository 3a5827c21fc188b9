package io.hacluster.messaging;

/**
 * Where small best-effort messages go instead of the stream, typically a gossip UDP user message
 * (memberlist's {@code SendBestEffort}). The facade implements it; the receiving side hands every
 * packet it gets back to {@link Messenger#receiveBestEffort(byte[])}.
 */
public interface BestEffortChannel {

    /** The largest packet {@link #trySend} accepts; larger messages go over the stream. */
    int maxPacketSize();

    /**
     * Sends one packet to a node, without waiting.
     *
     * @return false if the packet could not be handed over (unknown node, channel closed); the
     *     messenger then falls back to the stream
     */
    boolean trySend(String nodeId, byte[] packet);

    /** A channel that never sends, so every best-effort message goes over the stream. */
    static BestEffortChannel none() {
        return NoBestEffortChannel.INSTANCE;
    }
}
