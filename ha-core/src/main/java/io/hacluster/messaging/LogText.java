package io.hacluster.messaging;

import io.hacluster.gossip.PeerText;

/**
 * Text from the network made safe for a log line: control characters escaped, length bounded.
 * One rule for the whole library: ha-gossip's {@link PeerText} (ha-gossip cannot depend on
 * ha-core, so the rule lives there).
 */
final class LogText {

    private LogText() {
    }

    /** {@code s} with every control character as {@code \\uXXXX}, cut at 256 characters. */
    static String escape(String s) {
        return PeerText.escape(s);
    }
}
