package io.hacluster.bench.gossip;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One gossip node of a benchmark ring, run as its own OS process so that a crash is a real
 * {@code SIGKILL} and a stall a real {@code SIGSTOP}: either our {@code GossipAgent} in a JVM or a
 * Debian {@code serf} agent. Every output line is kept with the monotonic time it was read, which
 * is when the node reported the event (both flush each line).
 */
final class FailureDetectionNode implements AutoCloseable {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    /** Which implementation a node runs. */
    enum Kind {
        /** Our {@code GossipAgent}: gossip alone. */
        JAVA,
        /** A serf agent. */
        SERF,
        /** A whole {@code ClusterNode} ({@link ClusterNodeAgent}): gossip plus the streaming messenger. */
        CLUSTER
    }

    /** A line of output and the {@link System#nanoTime()} at which it was read. */
    record Line(long nanos, String text) {
    }

    private final Kind kind;
    private final String name;
    private final int port;
    private final Process process;
    private final List<Line> lines = new ArrayList<>();

    private FailureDetectionNode(Kind kind, String name, int port, Process process) {
        this.kind = kind;
        this.name = name;
        this.port = port;
        this.process = process;
        Thread reader = new Thread(this::pump, "ha-bench-" + name + "-out");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts our agent: {@code java -cp <classpath> io.hacluster.gossip.cli.GossipAgent ...}. */
    static FailureDetectionNode java(String name, String preset, String classpath, Integer joinPort) {
        int port = freeUdpAndTcpPort();
        List<String> command = new ArrayList<>(List.of(
                javaBinary(), "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Djava.net.preferIPv4Stack=true", "-Dlogback.configurationFile=" + WarnLogConfig.PATH,
                "-cp", classpath, "io.hacluster.gossip.cli.GossipAgent",
                "--name", name, "--bind", "127.0.0.1:" + port, "--preset", preset));
        if (joinPort != null) {
            command.addAll(List.of("--join", "127.0.0.1:" + joinPort));
        }
        return start(Kind.JAVA, name, port, command);
    }

    /**
     * Starts a whole ClusterNode ({@link ClusterNodeAgent}) named {@code id} (26 characters), with
     * fast crash detection on or off.
     */
    static FailureDetectionNode cluster(String id, String preset, String classpath, Integer joinPort, boolean fast) {
        int port = freeUdpAndTcpPort();
        int streaming = freeUdpAndTcpPort();
        List<String> command = new ArrayList<>(List.of(
                javaBinary(), "-Xmx160m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Djava.net.preferIPv4Stack=true", "-Dlogback.configurationFile=" + WarnLogConfig.PATH,
                "-cp", classpath, ClusterNodeAgent.class.getName(), "--id", id,
                "--gossip-port", String.valueOf(port), "--streaming-port", String.valueOf(streaming),
                "--preset", preset, "--fast", String.valueOf(fast)));
        if (joinPort != null) {
            command.addAll(List.of("--join", "127.0.0.1:" + joinPort));
        }
        return start(Kind.CLUSTER, id, port, command);
    }

    /**
     * Whether a dead report about {@code member} at or after {@code sinceNanos} carried a
     * fast-path death count above zero (only {@link Kind#CLUSTER} nodes report one).
     */
    boolean deadReportedByFastPath(String member, long sinceNanos) {
        synchronized (lines) {
            return lines.stream().filter(l -> l.nanos() >= sinceNanos && deadLine(member).test(l.text()))
                    .anyMatch(l -> !l.text().contains("\"fastPathDeaths\":0,"));
        }
    }

    /** When this node reported {@code member} alive again at or after {@code sinceNanos}. */
    OptionalLong aliveReportedAt(String member, long sinceNanos) {
        return first(t -> t.contains("\"event\":\"alive\"") && t.contains("\"name\":\"" + member + "\""), sinceNanos);
    }

    /** Starts a serf agent with the matching memberlist profile, bound and advertised on loopback. */
    static FailureDetectionNode serf(String name, String profile, Integer joinPort) {
        int port = freeUdpAndTcpPort();
        int rpc = freeUdpAndTcpPort();
        List<String> command = new ArrayList<>(List.of("serf", "agent", "-node=" + name,
                "-bind=127.0.0.1:" + port, "-advertise=127.0.0.1:" + port,
                "-rpc-addr=127.0.0.1:" + rpc, "-profile=" + profile, "-log-level=info"));
        if (joinPort != null) {
            command.add("-join=127.0.0.1:" + joinPort);
        }
        return start(Kind.SERF, name, port, command);
    }

    private static FailureDetectionNode start(Kind kind, String name, int port, List<String> command) {
        try {
            // serf logs on both streams; our agent prints events on stdout and WARN logs on stderr
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            return new FailureDetectionNode(kind, name, port, process);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command.get(0), e);
        }
    }

    String name() {
        return name;
    }

    int port() {
        return port;
    }

    Kind kind() {
        return kind;
    }

    /** True once this node has reported {@code member} as joined/alive. */
    boolean sawJoin(String member) {
        return first(joinLine(member), 0).isPresent();
    }

    /** When this node first reported {@code member} dead/failed at or after {@code sinceNanos}. */
    OptionalLong deadReportedAt(String member, long sinceNanos) {
        return first(deadLine(member), sinceNanos);
    }

    /** Dead/failed reports about any member at or after {@code sinceNanos}. */
    List<Line> deadReports(long sinceNanos) {
        synchronized (lines) {
            return lines.stream().filter(l -> l.nanos() >= sinceNanos && isDeadReport(l.text())).toList();
        }
    }

    /**
     * Times at or after {@code sinceNanos} that this node logged refuting a suspicion about
     * itself: memberlist's "Refuting a suspect message" (WARN), our "refuting a suspect message"
     * (WARN). A stalled node that refutes was suspected, and survived it.
     */
    long refutationsLogged(long sinceNanos) {
        synchronized (lines) {
            return lines.stream().filter(l -> l.nanos() >= sinceNanos
                    && l.text().toLowerCase(java.util.Locale.ROOT).contains("refuting a suspect message")).count();
        }
    }

    /** A logback configuration for the agents: WARN and above, on stderr, one line each. */
    private static final class WarnLogConfig {
        static final String PATH = write();

        private static String write() {
            try {
                java.nio.file.Path file = java.nio.file.Files.createTempFile("ha-bench-agent-logback", ".xml");
                file.toFile().deleteOnExit();
                java.nio.file.Files.writeString(file, """
                        <configuration>
                          <appender name="ERR" class="ch.qos.logback.core.ConsoleAppender">
                            <target>System.err</target>
                            <encoder><pattern>%level %logger{0} %msg%n</pattern></encoder>
                          </appender>
                          <root level="WARN"><appender-ref ref="ERR"/></root>
                        </configuration>
                        """);
                return file.toString();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private boolean isDeadReport(String text) {
        return kind != Kind.SERF ? text.contains("\"event\":\"dead\"") : text.contains("EventMemberFailed");
    }

    private Predicate<String> joinLine(String member) {
        return kind != Kind.SERF
                ? t -> t.contains("\"event\":\"join\"") && t.contains("\"name\":\"" + member + "\"")
                : t -> t.contains("EventMemberJoin: " + member + " ");
    }

    private Predicate<String> deadLine(String member) {
        return kind != Kind.SERF
                ? t -> t.contains("\"event\":\"dead\"") && t.contains("\"name\":\"" + member + "\"")
                : t -> t.contains("EventMemberFailed: " + member + " ");
    }

    private OptionalLong first(Predicate<String> match, long sinceNanos) {
        synchronized (lines) {
            return lines.stream().filter(l -> l.nanos() >= sinceNanos && match.test(l.text()))
                    .mapToLong(Line::nanos).findFirst();
        }
    }

    /** SIGKILL: the node disappears without a word, like a crashed host. */
    void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGSTOP or SIGCONT: freezes or thaws every thread of the node, as a long GC pause would. */
    void signal(String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start();
            if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String output() {
        synchronized (lines) {
            return String.join("\n", lines.stream().map(Line::text).toList());
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill(); // SIGKILL also ends a stopped process
        }
    }

    private void pump() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String text;
            while ((text = in.readLine()) != null) {
                long now = System.nanoTime();
                synchronized (lines) {
                    lines.add(new Line(now, text));
                }
            }
        } catch (IOException ignored) {
            // process gone; its lines are kept
        }
    }

    static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    /** A port free for both TCP and UDP right now (gossip binds both on it). */
    static int freeUdpAndTcpPort() {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket tcp = new ServerSocket(0, 1, LOOPBACK)) {
                try (DatagramSocket udp = new DatagramSocket(tcp.getLocalPort(), LOOPBACK)) {
                    return tcp.getLocalPort();
                } catch (IOException taken) {
                    // UDP side in use: try another
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no port free for both TCP and UDP");
    }
}
