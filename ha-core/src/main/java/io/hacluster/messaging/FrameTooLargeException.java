package io.hacluster.messaging;

/** The message is larger than {@link MessengerConfig#maxFrameSize()}; it was not sent. */
public class FrameTooLargeException extends MessagingException {

    public FrameTooLargeException(String message) {
        super(message);
    }
}
