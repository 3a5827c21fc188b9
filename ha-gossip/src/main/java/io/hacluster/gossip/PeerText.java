package io.hacluster.gossip;

/**
 * Text a peer chose (node names, error strings, labels) made safe for one log line: control
 * characters (newline, carriage return, ESC of an ANSI sequence, the Unicode line separators)
 * become {@code \\uXXXX} and the length is bounded, so a packet cannot forge or flood log lines.
 * The library's one rule: ha-core and the examples call it too.
 */
public final class PeerText {

    private static final int MAX_CHARS = 256;

    private PeerText() {
    }

    /** {@code s} with every control character escaped, cut at 256 characters. */
    public static String escape(String s) {
        if (s == null) {
            return "null";
        }
        int n = Math.min(s.length(), MAX_CHARS);
        StringBuilder b = null;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            boolean control = Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
            if (control && b == null) {
                b = new StringBuilder(n + 16).append(s, 0, i);
            }
            if (b != null) {
                if (control) {
                    b.append(String.format("\\u%04x", (int) c));
                } else {
                    b.append(c);
                }
            }
        }
        String out = b == null ? s.substring(0, n) : b.toString();
        return s.length() > MAX_CHARS ? out + "...(" + s.length() + " chars)" : out;
    }
}
