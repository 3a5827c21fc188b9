package io.hacluster.messaging;

/**
 * The target node is unknown, declared dead, or has left, so the message was not (or can no
 * longer be) delivered. A message failed this way after it was written may still have been
 * handled by the target: the failure means "not acknowledged".
 */
public class PeerUnavailableException extends MessagingException {

    private final String nodeId;

    public PeerUnavailableException(String nodeId, String message) {
        super(message);
        this.nodeId = nodeId;
    }

    /** The node the message was for. */
    public String nodeId() {
        return nodeId;
    }
}
