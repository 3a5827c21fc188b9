package io.hacluster.messaging;

/**
 * A request reached its target, but the target had no handler for the event, or its handler
 * failed. The message is the remote error text.
 */
public class RemoteHandlerException extends MessagingException {

    public RemoteHandlerException(String message) {
        super(message);
    }
}
