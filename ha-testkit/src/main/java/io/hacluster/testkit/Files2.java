package io.hacluster.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/** File helpers the JDK lacks. */
final class Files2 {

    private Files2() {}

    /** Deletes a tree; files that vanish meanwhile are fine. Symbolic links are removed, not followed. */
    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) {
                    throw e;
                }
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** The last {@code maxLines} lines of a text file, or a note saying why there are none. */
    static String tail(Path file, int maxLines) {
        try {
            // Decoding replaces malformed bytes instead of failing: a log tail is for humans.
            String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
            List<String> lines = List.of(text.split("\\R"));
            List<String> last = new ArrayList<>(lines.subList(Math.max(0, lines.size() - maxLines), lines.size()));
            return String.join(System.lineSeparator(), last);
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    /** The text of a file from byte {@code offset} on (empty if it cannot be read). */
    static String readFrom(Path file, long offset) {
        try (var channel = FileChannel.open(file)) {
            long size = channel.size();
            if (offset >= size) {
                return "";
            }
            ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(size - offset, 1 << 20));
            channel.read(buffer, offset);
            return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Deletes the entries of {@code dir} whose names start with {@code prefix}: staging directories
     * a JVM killed mid-build left behind. Call only while holding the lock that guards building.
     */
    static void deleteAbandoned(Path dir, String prefix) throws IOException {
        try (var entries = Files.newDirectoryStream(dir, path -> path.getFileName().toString().startsWith(prefix))) {
            for (Path entry : entries) {
                deleteRecursively(entry);
            }
        }
    }
}
