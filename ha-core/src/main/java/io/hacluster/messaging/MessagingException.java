package io.hacluster.messaging;

/** Base of every failure a messaging future completes with (besides timeouts). */
public class MessagingException extends RuntimeException {

    public MessagingException(String message) {
        super(message);
    }

    public MessagingException(String message, Throwable cause) {
        super(message, cause);
    }
}
