package io.hacluster.messaging;

/** A length prefix above the current frame limit; the connection is closed without reading on. */
final class FrameTooLongException extends Exception {

    FrameTooLongException(String message) {
        super(message, null, false, false);
    }
}
