package io.hacluster.testkit;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs short external commands (initdb, chown, cp) and turns failures into clear exceptions. */
final class Commands {

    private Commands() {}

    /**
     * Runs a command to completion within {@code timeoutSeconds}; returns its combined output;
     * throws with that output if it fails or takes too long.
     */
    static String run(List<String> command, int timeoutSeconds) {
        Path output;
        try {
            // A file, not a pipe: the timeout must hold even if the command never closes its output.
            output = Files.createTempFile("ha-testkit-cmd-", ".out");
        } catch (IOException e) {
            throw new PostgresTestkitException("Cannot create a temporary file for the output of " + command + ": " + e, e);
        }
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            try {
                if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new PostgresTestkitException(command + " did not finish in " + timeoutSeconds + " s:\n"
                            + Files2.tail(output, 20));
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new PostgresTestkitException("Interrupted while running " + command, e);
            }
            String text = new String(Files.readAllBytes(output), StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new PostgresTestkitException(command + " failed with exit code " + process.exitValue() + ":\n"
                        + text.strip());
            }
            return text;
        } catch (IOException e) {
            throw new PostgresTestkitException("Cannot run " + command + ": " + e, e);
        } finally {
            try {
                Files.deleteIfExists(output);
            } catch (IOException e) {
                // a leftover temp file is harmless
            }
        }
    }
}
