package io.hacluster.identity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;

/**
 * Node identifiers in Mattermost's {@code model.NewId()} style: 16 random bytes encoded with
 * base32 over the alphabet {@code ybndrfg8ejkmcpqxot1uwisza345h769}, no padding, which gives
 * exactly 26 lowercase characters. The same shape fits the {@code ClusterDiscovery.Id}
 * column ({@code VARCHAR(26)}), and the bully election compares ids as plain strings.
 */
public final class NodeId {

    /** Length of every node id. */
    public static final int LENGTH = 26;

    private static final char[] ALPHABET = "ybndrfg8ejkmcpqxot1uwisza345h769".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();
    /** A persisted id file is a single line; anything longer is not one of ours. */
    private static final long MAX_FILE_BYTES = 1024;

    private NodeId() {
    }

    /** A fresh random id. */
    public static String generate() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return encode(bytes);
    }

    /** Encodes 16 bytes as 26 base32 characters (5 bits per character, no padding). */
    static String encode(byte[] bytes) {
        if (bytes.length != 16) {
            throw new IllegalArgumentException("a node id encodes exactly 16 bytes, got " + bytes.length);
        }
        StringBuilder out = new StringBuilder(LENGTH);
        int buffer = 0;
        int bits = 0;
        for (byte b : bytes) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                out.append(ALPHABET[(buffer >>> (bits - 5)) & 0x1f]);
                bits -= 5;
            }
        }
        if (bits > 0) {
            // 128 bits leave 3 over: left-align them in the last character, as base32 does.
            out.append(ALPHABET[(buffer << (5 - bits)) & 0x1f]);
        }
        return out.toString();
    }

    /**
     * Whether {@code id} has the shape Mattermost accepts ({@code model.IsValidId}): 26
     * characters, ASCII lowercase letters and digits only.
     */
    public static boolean isValid(String id) {
        if (id == null || id.length() != LENGTH) {
            return false;
        }
        for (int i = 0; i < LENGTH; i++) {
            char c = id.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads the id stored in {@code file}, or generates one and stores it there when the file
     * does not exist yet. The write goes to a temporary sibling first and is then moved into
     * place, so a crash never leaves a half-written id behind.
     *
     * @throws IllegalStateException when the file exists but does not hold a valid id
     * @throws UncheckedIOException when the file cannot be read or written
     */
    public static String loadOrCreate(Path file) {
        try {
            String existing = read(file);
            if (existing != null) {
                return existing;
            }
            String id = generate();
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Path tmp = Files.createTempFile(parent, file.getFileName().toString(), ".tmp");
            try {
                Files.writeString(tmp, id + "\n", StandardCharsets.US_ASCII);
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            // Another process may have raced us to it; whatever is in the file now wins.
            String stored = read(file);
            return stored != null ? stored : id;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the node id file " + file, e);
        }
    }

    private static String read(Path file) throws IOException {
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new IllegalStateException("node id file " + file + " is larger than "
                        + MAX_FILE_BYTES + " bytes; it must hold one 26-character id");
            }
            String content = Files.readString(file, StandardCharsets.US_ASCII).strip();
            if (!isValid(content)) {
                throw new IllegalStateException("node id file " + file
                        + " does not hold a valid id (26 lowercase letters or digits); "
                        + "fix or delete it to generate a new one");
            }
            return content;
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
