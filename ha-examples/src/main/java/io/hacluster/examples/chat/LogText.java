package io.hacluster.examples.chat;

/** (ha-core keeps its own copy package-private.) Text from the network made safe for a log line: control characters escaped, length bounded. */
final class LogText {

    private static final int MAX_CHARS = 256;

    private LogText() {
    }

    /** {@code s} with every control character as {@code \\uXXXX}, cut at 256 characters. */
    static String escape(String s) {
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
