package io.hacluster.messaging;

import io.hacluster.ClusterMessage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/** The {@link IncomingMessage} given to handlers; a request carries where its reply goes. */
final class Delivery implements IncomingMessage {

    private final String senderId;
    private final ClusterMessage message;
    /** Null unless this is a request. */
    private final Consumer<byte[]> replySink;
    private final AtomicBoolean replied = new AtomicBoolean();

    Delivery(String senderId, ClusterMessage message, Consumer<byte[]> replySink) {
        this.senderId = senderId;
        this.message = message;
        this.replySink = replySink;
    }

    @Override
    public String senderId() {
        return senderId;
    }

    @Override
    public ClusterMessage message() {
        return message;
    }

    @Override
    public boolean isRequest() {
        return replySink != null;
    }

    @Override
    public void reply(byte[] data) {
        if (replySink == null) {
            throw new IllegalStateException("message '" + message.event() + "' from " + senderId + " is not a request");
        }
        if (!replied.compareAndSet(false, true)) {
            throw new IllegalStateException("request '" + message.event() + "' from " + senderId + " already answered");
        }
        replySink.accept(data == null ? new byte[0] : data);
    }

    /** Claims the reply slot for an error answer; false if the handler already replied. */
    boolean claimForError() {
        return replySink != null && replied.compareAndSet(false, true);
    }

    @Override
    public String toString() {
        return "IncomingMessage[from=" + senderId + ", " + message + (isRequest() ? ", request" : "") + "]";
    }
}
