package io.hacluster.messaging;

/** The messenger was closed before the message could be sent or acknowledged. */
public class MessengerClosedException extends MessagingException {

    public MessengerClosedException(String message) {
        super(message);
    }
}
