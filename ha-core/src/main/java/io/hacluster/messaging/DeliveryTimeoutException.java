package io.hacluster.messaging;

/**
 * A reliable message was not acknowledged within the messenger's send timeout. It stays queued
 * for its target and may still be delivered (and its handler run) later; what the timeout ends is
 * the wait, so that no caller blocks without bound.
 */
public class DeliveryTimeoutException extends MessagingException {

    private final String nodeId;

    public DeliveryTimeoutException(String nodeId, String message) {
        super(message, null, false, false);  // one per overdue target, made under locks: no stack trace
        this.nodeId = nodeId;
    }

    /** The node that did not acknowledge. */
    public String nodeId() {
        return nodeId;
    }
}
