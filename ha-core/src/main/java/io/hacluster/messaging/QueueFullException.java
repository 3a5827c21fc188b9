package io.hacluster.messaging;

/**
 * The per-peer queue of unacknowledged messages is full (the peer is slow, suspect or cut off);
 * the message was not queued. Capacity is {@link MessengerConfig#maxPendingPerPeer()} messages and
 * {@link MessengerConfig#maxPendingBytesPerPeer()} bytes.
 */
public class QueueFullException extends MessagingException {

    public QueueFullException(String message) {
        super(message);
    }
}
