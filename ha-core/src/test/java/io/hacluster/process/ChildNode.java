package io.hacluster.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
    /** {@link System#nanoTime()} when each line of {@link #lines} was read, same index. */
    private final List<Long> arrivals = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicLong refs = new java.util.concurrent.atomic.AtomicLong();

    /**
     * What a child may get beyond the messaging test's defaults: the gossip preset, lease timing
     * (milliseconds) and the lease database's DSN (given through the environment, never on the
     * command line; null for none).
     */
    record Options(String gossipPreset, long leaseMillis, long renewDeadlineMillis, long retryMillis, String dsn) {
        static final Options DEFAULT = new Options("local", 0, 0, 0, null);

        /** The gossip preset {@code preset}, lease timing from {@code lease}, the lease database {@code dsn}. */
        static Options withLease(String preset, io.hacluster.election.LeaseSettings lease, String dsn) {
            return new Options(preset, lease.leaseDuration().toMillis(), lease.renewDeadline().toMillis(),
                    lease.retryPeriod().toMillis(), dsn);
        }
    }

    /** Where the child's stderr goes (set once, right after start). */
    private volatile Path stderr;

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
        return start(name, clusterName, idFile, gossipPort, streamingPort, seeds, sendTimeout, Options.DEFAULT);
    }

    static ChildNode start(String name, String clusterName, Path idFile, int gossipPort, int streamingPort,
                           String seeds, Duration sendTimeout, Options options) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), NodeProcess.class.getName(),
                clusterName, idFile.toString(), String.valueOf(gossipPort), String.valueOf(streamingPort),
                seeds.isEmpty() ? "-" : seeds, String.valueOf(sendTimeout.toMillis()),
                "preset=" + options.gossipPreset()));
        if (options.leaseMillis() > 0) {
            command.add("lease=" + options.leaseMillis() + "," + options.renewDeadlineMillis() + ","
                    + options.retryMillis());
        }
        // The child's stderr goes to a file, so a child that dies before its first line says why.
        Path stderr = Files.createTempFile("ha-child-" + name + "-", ".err");
        stderr.toFile().deleteOnExit();
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(stderr.toFile());
        pb.environment().remove(NodeProcess.DSN_ENV);
        if (options.dsn() != null) {
            pb.environment().put(NodeProcess.DSN_ENV, options.dsn());
        }
        ChildNode child = new ChildNode(name, idFile, gossipPort, streamingPort, pb.start());
        child.stderr = stderr;
        return child;
    }

    private void read() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                arrivals.add(System.nanoTime());  // first: every index of lines has its time
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

    /**
     * Waits, bounded, until a line matches; returns {@link System#nanoTime()} when it was read
     * (the first such line; an upper bound of when the child wrote it).
     */
    long awaitArrival(Predicate<String> match, Duration timeout, String what) throws InterruptedException {
        return awaitArrival(0, match, timeout, what);
    }

    /** As {@link #awaitArrival(Predicate, Duration, String)}, among the lines from index {@code from} on. */
    long awaitArrival(int from, Predicate<String> match, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int i = from;
        while (true) {
            List<String> snapshot = lines;
            for (; i < snapshot.size(); i++) {
                if (match.test(snapshot.get(i))) {
                    return arrivals.get(i);
                }
            }
            if (System.nanoTime() >= deadline || (!process.isAlive() && i == lines.size())) {
                throw new AssertionError(name + ": no line for '" + what + "' within " + timeout + " (from line "
                        + from + "); alive=" + process.isAlive() + "; last lines: " + tail());
            }
            Thread.sleep(5);
        }
    }

    /** The number of lines read so far: a mark for {@link #awaitArrival(int, Predicate, Duration, String)}. */
    int mark() {
        return lines.size();
    }

    /** The lines from {@code from} on. */
    List<String> since(int from) {
        List<String> snapshot = List.copyOf(lines);
        return snapshot.subList(Math.min(from, snapshot.size()), snapshot.size());
    }

    /** Read time of the first line matching, if any. */
    java.util.OptionalLong arrivalOf(Predicate<String> match) {
        List<String> snapshot = List.copyOf(lines);
        for (int i = 0; i < snapshot.size(); i++) {
            if (match.test(snapshot.get(i))) {
                return java.util.OptionalLong.of(arrivals.get(i));
            }
        }
        return java.util.OptionalLong.empty();
    }

    /**
     * Asks the child for its {@code leader()} and {@code isLeader()} now; returns the answer's
     * fields: {@code LEADER ref id epoch token isLeader}.
     */
    String[] leader(Duration timeout) throws IOException, InterruptedException {
        String ref = String.valueOf(refs.incrementAndGet());
        command("LEADER " + ref);
        return await(l -> l.startsWith("LEADER " + ref + " "), timeout, "LEADER " + ref).split(" ");
    }

    /** Asks the child for its gossip fast-path counters: {deaths, aborts}. */
    long[] fastPath(Duration timeout) throws IOException, InterruptedException {
        String ref = String.valueOf(refs.incrementAndGet());
        command("GSTATS " + ref);
        String[] w = await(l -> l.startsWith("GSTATS " + ref + " "), timeout, "GSTATS " + ref).split(" ");
        return new long[] {Long.parseLong(w[2]), Long.parseLong(w[3])};
    }

    long pid() {
        return process.pid();
    }

    /** Sends {@code SIGSTOP} or {@code SIGCONT} (through kill(1), which Java has no API for); waits for kill to finish. */
    void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS)) {
            kill.destroyForcibly();
            throw new IOException("kill -" + name + " " + process.pid() + " did not finish");
        }
        if (kill.exitValue() != 0) {
            throw new IOException("kill -" + name + " " + process.pid() + " exited with " + kill.exitValue());
        }
    }

    /** The process state letter from /proc (R, S, T for stopped, ...), or '?' if unreadable. */
    char procState() {
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc", String.valueOf(process.pid()), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2);
        } catch (IOException | RuntimeException e) {
            return '?';
        }
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
        String out = String.join(" | ", lines.subList(Math.max(0, n - 15), n));
        if (process.isAlive() || stderr == null) {
            return out;
        }
        try {
            List<String> err = Files.readAllLines(stderr, StandardCharsets.UTF_8);
            int e = err.size();
            return out + "; exit " + process.exitValue() + "; stderr: "
                    + String.join(" | ", err.subList(Math.max(0, e - 15), e));
        } catch (IOException | java.io.UncheckedIOException e) {
            return out + "; exit " + process.exitValue() + "; stderr unreadable: " + e;
        }
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
            process.toHandle().destroyForcibly();  // SIGKILL ends a stopped process too
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
