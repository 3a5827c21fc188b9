package io.hacluster.examples.chat;

import io.hacluster.gossip.PeerText;

/** Text from a client made safe for a log line, by the library's one rule ({@link PeerText}). */
final class LogText {

    private LogText() {
    }

    /** {@code s} with every control character as {@code \\uXXXX}, cut at 256 characters. */
    static String escape(String s) {
        return PeerText.escape(s);
    }
}
