package io.hacluster.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A {@link NodeProcess} in a child JVM on the test's classpath: start, command, signal, read. */
final class ChildNode implements AutoCloseable {

    final String name;
    final Path idFile;
    final int gossipPort;
    final int streamingPort;
    private final Process process;
    private final Writer stdin;
    private final Thread reader;
    final List<String> lines = new CopyOnWriteArrayList<>();

    private ChildNode(String name, Path idFile, int gossipPort, int streamingPort, Process process) {
        this.name = name;
        this.idFile = idFile;
        this.gossipPort = gossipPort;
        this.streamingPort = streamingPort;
        this.process = process;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        this.reader = new Thread(this::read, "test-child-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    static ChildNode start(String name, String clusterName, Path idFile, int gossipPort, int streamingPort,
                           String seeds, Duration sendTimeout) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), NodeProcess.class.getName(),
                clusterName, idFile.toString(), String.valueOf(gossipPort), String.valueOf(streamingPort),
                seeds.isEmpty() ? "-" : seeds, String.valueOf(sendTimeout.toMillis()))
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        return new ChildNode(name, idFile, gossipPort, streamingPort, p);
    }

    private void read() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
            }
        } catch (IOException e) {
            // the child is gone
        }
    }

    void command(String line) throws IOException {
        stdin.write(line + "\n");
        stdin.flush();
    }

    /** Waits, bounded, until a line matches; returns it. */
    String await(Predicate<String> match, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int from = 0;
        while (System.nanoTime() < deadline) {
            List<String> snapshot = lines;
            for (int i = from; i < snapshot.size(); i++) {
                if (match.test(snapshot.get(i))) {
                    return snapshot.get(i);
                }
            }
            from = snapshot.size();
            if (!process.isAlive() && from == lines.size()) {
                break;
            }
            Thread.sleep(10);
        }
        throw new AssertionError(name + ": no line for '" + what + "' within " + timeout + "; alive="
                + process.isAlive() + "; last lines: " + tail());
    }

    long count(Predicate<String> match) {
        return lines.stream().filter(match).count();
    }

    List<String[]> fields(String prefix) {
        List<String[]> out = new ArrayList<>();
        for (String l : lines) {
            if (l.startsWith(prefix + " ")) {
                out.add(l.split(" "));
            }
        }
        return out;
    }

    String tail() {
        int n = lines.size();
        return String.join(" | ", lines.subList(Math.max(0, n - 15), n));
    }

    /**
     * SIGTERM: the node's shutdown hook leaves gracefully. Sent through the process handle:
     * {@link Process#destroy()} would also close our end of its stdout, and lose what it prints
     * while it shuts down.
     */
    void terminate() {
        process.toHandle().destroy();
    }

    /** SIGKILL, keeping its output readable to the end. */
    void kill() {
        process.toHandle().destroyForcibly();
    }

    /** Waits until the process exited and everything it wrote was read. */
    boolean awaitExit(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            return false;
        }
        reader.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        return !reader.isAlive();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Kills the process if still running and keeps its output in target/child-logs for diagnosis. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        reader.join(5_000);
        try {
            Path logs = Path.of("target", "child-logs");
            java.nio.file.Files.createDirectories(logs);
            java.nio.file.Files.write(logs.resolve(name + "-" + process.pid() + ".log"), lines, StandardCharsets.UTF_8);
        } catch (IOException e) {
            // diagnosis only
        }
    }
}
