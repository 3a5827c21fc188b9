package io.hacluster;

import io.hacluster.messaging.IncomingMessage;

/**
 * Handles one cluster event. Runs on the messaging handler pool (threads
 * {@code ha-<node>-handler-N}), never on an I/O thread; messages from one sender are handled one
 * at a time in the order that sender sent them. A reliable message is acknowledged to its sender
 * after this method returns (or throws).
 *
 * <p>For a request ({@link IncomingMessage#isRequest()}), call {@link IncomingMessage#reply(byte[])}
 * once, now or later from any thread; if the handler throws before replying, the requester gets
 * the exception's message as a remote error.
 */
@FunctionalInterface
public interface MessageHandler {

    /**
     * Handles a message.
     *
     * @param message the received message and its sender
     * @throws Exception any failure; it is logged and counted, and answers a pending request with an error
     */
    void handle(IncomingMessage message) throws Exception;
}
