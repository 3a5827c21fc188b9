package io.hacluster.messaging;

/** Malformed input from the network; the connection (or packet) it came from is dropped. */
final class ProtocolException extends Exception {

    ProtocolException(String message) {
        super(message, null, false, false);
    }
}
