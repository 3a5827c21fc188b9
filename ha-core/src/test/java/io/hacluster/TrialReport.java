package io.hacluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Measurements of the election trials, one line each, appended to
 * {@code target/election-trials.txt} of the module (the tests' log is at WARN): what a reviewer
 * reads to see how close each trial came to its bound.
 */
final class TrialReport {

    private static final Path FILE = Path.of("target", "election-trials.txt");

    private TrialReport() {
    }

    static synchronized void append(String line) {
        try {
            Files.createDirectories(FILE.getParent());
            Files.writeString(FILE, line + System.lineSeparator(), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
