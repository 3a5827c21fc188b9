package io.hacluster.gossip.wire;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds byte vectors from readable pieces: hex tokens and quoted ASCII strings. */
final class Hex {

    private Hex() {
    }

    /** {@code bytes("82 a4", "'Node'", "a1 'a'")}: hex byte tokens, and 'text' as raw ASCII. */
    static byte[] bytes(String... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String part : parts) {
            for (String token : part.trim().split("\\s+(?=(?:[^']*'[^']*')*[^']*$)")) {
                if (token.isEmpty()) {
                    continue;
                }
                if (token.startsWith("'")) {
                    out.writeBytes(token.substring(1, token.length() - 1).getBytes(StandardCharsets.US_ASCII));
                } else {
                    out.write(Integer.parseInt(token, 16));
                }
            }
        }
        return out.toByteArray();
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            if (s.length() > 0) {
                s.append(' ');
            }
            s.append(String.format("%02x", x & 0xFF));
        }
        return s.toString();
    }
}
