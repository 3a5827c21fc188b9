package io.hacluster.jobs;

import java.security.SecureRandom;

/**
 * Job ids in Mattermost's shape: 26 characters, 128 random bits in base32 with Mattermost's
 * alphabet, so they fit where Mattermost job ids go.
 */
final class JobIds {

    private static final char[] ALPHABET = "ybndrfg8ejkmcpqxot1uwisza345h769".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private JobIds() {
    }

    static String next() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        StringBuilder out = new StringBuilder(26);
        int buffer = 0;
        int bits = 0;
        for (byte b : bytes) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                out.append(ALPHABET[(buffer >>> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        out.append(ALPHABET[(buffer << (5 - bits)) & 31]);  // 128 = 25 * 5 + 3: the last 3 bits
        return out.toString();
    }
}
