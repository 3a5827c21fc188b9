package io.hacluster.messaging;

/** Base of every failure a messaging future completes with (besides timeouts). */
public class MessagingException extends RuntimeException {

    public MessagingException(String message) {
        super(message);
    }

    public MessagingException(String message, Throwable cause) {
        super(message, cause);
    }

    /** For failures made in bulk where a stack trace says nothing (see {@link RuntimeException}). */
    protected MessagingException(String message, Throwable cause, boolean enableSuppression,
                                 boolean writableStackTrace) {
        super(message, cause, enableSuppression, writableStackTrace);
    }
}
