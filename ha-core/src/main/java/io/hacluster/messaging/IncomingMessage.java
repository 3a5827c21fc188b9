package io.hacluster.messaging;

import io.hacluster.ClusterMessage;
import java.util.Map;

/** A message handed to a {@link io.hacluster.MessageHandler}, with its sender and a way to reply. */
public interface IncomingMessage {

    /** The node id of the sender. */
    String senderId();

    /**
     * The message as received: event, data and props from the wire; {@code sendType} tells how it
     * travelled; {@code waitForAllToSend} is always false (a local option of the sender).
     */
    ClusterMessage message();

    /** Shortcut for {@code message().event()}. */
    default String event() {
        return message().event();
    }

    /** Shortcut for {@code message().data()}. */
    default byte[] data() {
        return message().data();
    }

    /** Shortcut for {@code message().props()}. */
    default Map<String, String> props() {
        return message().props();
    }

    /** Whether the sender waits for a reply ({@link Messenger#request} or {@link Messenger#gather}). */
    boolean isRequest();

    /**
     * Sends the reply to a request, reliably. Call at most once, from any thread, now or later.
     *
     * @throws IllegalStateException if this is not a request or a reply was already sent
     */
    void reply(byte[] data);
}
