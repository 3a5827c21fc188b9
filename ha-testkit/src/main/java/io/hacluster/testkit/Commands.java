package io.hacluster.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs short external commands (initdb, chown, cp) and turns failures into clear exceptions. */
final class Commands {

    private Commands() {}

    /** Runs a command to completion; returns its combined output; throws with that output if it fails. */
    static String run(List<String> command, int timeoutSeconds) {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(
                    new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            throw new PostgresTestkitException("Cannot run " + command + ": " + e, e);
        }
        try {
            // Output is small for every command we run; reading it before waiting avoids a full pipe.
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new PostgresTestkitException(command + " did not finish in " + timeoutSeconds + " s");
            }
            if (process.exitValue() != 0) {
                throw new PostgresTestkitException(command + " failed with exit code " + process.exitValue() + ":\n"
                        + output.strip());
            }
            return output;
        } catch (IOException e) {
            process.destroyForcibly();
            throw new PostgresTestkitException("Cannot read the output of " + command + ": " + e, e);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new PostgresTestkitException("Interrupted while running " + command, e);
        }
    }
}
