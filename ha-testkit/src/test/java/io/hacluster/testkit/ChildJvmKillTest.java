package io.hacluster.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The guarantee that matters most for a shared CI machine: a JVM killed with SIGKILL (no shutdown
 * hook, no finally) leaves no postmaster behind. A real child JVM starts a topology and is
 * killed; its postmasters must go away on their own.
 */
class ChildJvmKillTest {

    @Test
    void postmastersDieWhenTheirJvmIsKilled() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                TopologyChildMain.class.getName())
                .redirectErrorStream(true)
                .start();
        try {
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread reader = new Thread(() -> readLines(child, lines), "ha-test-child-reader");
            reader.setDaemon(true);
            reader.start();

            List<Long> pids = new ArrayList<>();
            Path directory = null;
            List<String> output = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (true) {
                String line = lines.poll(1, TimeUnit.SECONDS);
                if (line != null) {
                    output.add(line);
                    if (line.startsWith("PIDS ")) {
                        Arrays.stream(line.substring(5).trim().split(" ")).map(Long::valueOf).forEach(pids::add);
                    } else if (line.startsWith("DIR ")) {
                        directory = Path.of(line.substring(4).trim());
                    } else if (line.equals("READY")) {
                        break;
                    }
                }
                assertThat(child.isAlive()).as("child JVM alive; output so far: %s", output).isTrue();
                assertThat(System.nanoTime()).as("child ready in time; output so far: %s", output).isLessThan(deadline);
            }
            assertThat(pids).as("primary and replica postmasters").hasSize(2);
            assertThat(pids).allMatch(Postmasters::isAlive);
            Path runDirectory = directory.getParent();

            child.destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();

            await("postmasters of the killed JVM exit").atMost(Duration.ofSeconds(45))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> pids.stream().noneMatch(Postmasters::isAlive));
            assertThat(processesMentioning(runDirectory)).as("processes still naming " + runDirectory).isEmpty();

            // The killed JVM could not delete its files; the next JVM's sweep does.
            assertThat(runDirectory).exists();
            RunDirectory.sweepStale(runDirectory.getParent());
            assertThat(runDirectory).doesNotExist();
        } finally {
            child.destroyForcibly();
        }
    }

    private static void readLines(Process child, BlockingQueue<String> lines) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                lines.add(line);
            }
        } catch (IOException e) {
            // the child is gone
        }
    }

    /** Pids of live processes whose command line contains {@code path}. */
    static List<Long> processesMentioning(Path path) throws IOException {
        List<Long> found = new ArrayList<>();
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path proc : (Iterable<Path>) procs::iterator) {
                String name = proc.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmdline = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmdline.replace('\0', ' ').contains(path.toString())) {
                        found.add(Long.valueOf(name));
                    }
                } catch (IOException e) {
                    // exited meanwhile
                }
            }
        }
        return found;
    }
}
