package io.hacluster.gossip.serf;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A Debian {@code serf} agent run as a child process on 127.0.0.1, the real memberlist peer for
 * interop tests. Gossip, advertise and RPC addresses are all loopback ports chosen free at
 * runtime; no discovery flag is passed, so nothing leaves the machine. {@link #close()} kills the
 * process; use it in try-with-resources or a finally block.
 */
public final class SerfAgent implements AutoCloseable {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final Duration START_WAIT = Duration.ofSeconds(15);
    private static final Duration CLI_WAIT = Duration.ofSeconds(10);
    private static final Pattern MEMBER = Pattern.compile(
            "\\{\\s*\"name\":\\s*\"([^\"]*)\",\\s*\"addr\":\\s*\"([^\"]*)\",\\s*\"port\":\\s*(\\d+),"
                    + "\\s*\"tags\":\\s*\\{[^}]*\\},\\s*\"status\":\\s*\"([^\"]*)\","
                    + "\\s*\"protocol\":\\s*\\{\\s*\"max\":\\s*(\\d+),\\s*\"min\":\\s*(\\d+),\\s*\"version\":\\s*(\\d+)\\s*\\}");

    private final String name;
    private final InetSocketAddress gossipAddress;
    private final InetSocketAddress rpcAddress;
    private final Process process;
    private final List<String> output = new CopyOnWriteArrayList<>();

    /** One row of {@code serf members -format=json}. {@code protocol} is serf's own protocol version. */
    public record SerfMember(String name, String address, String status, int protocol) {
    }

    private SerfAgent(String name, InetSocketAddress gossipAddress, InetSocketAddress rpcAddress, Process process) {
        this.name = name;
        this.gossipAddress = gossipAddress;
        this.rpcAddress = rpcAddress;
        this.process = process;
        Thread reader = new Thread(this::pumpOutput, "ha-serf-" + name + "-log");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Stops the calling test unless serf runs here. On CI ({@code CI} set) a missing serf is a
     * failure, not a skip: `.ci/run` installs it, and a skipped interop test would test nothing.
     * A developer machine without serf skips these tests with the install hint.
     */
    public static void requireInstalled() {
        if (installed()) {
            return;
        }
        String hint = "serf is not installed (apt-get install serf)";
        if (System.getenv("CI") != null) {
            throw new AssertionError(hint + "; CI must install it, see .ci/run");
        }
        org.junit.jupiter.api.Assumptions.abort(hint);
    }

    /** True when the {@code serf} binary runs on this machine. */
    public static boolean installed() {
        try {
            Process p = new ProcessBuilder("serf", "version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Starts {@code serf agent} and waits until its RPC endpoint answers.
     *
     * @param profile  serf's {@code -profile}: lan, wan or local (memberlist's presets)
     * @param protocol serf's {@code -protocol}, 2..5 (every one maps to memberlist protocol 2;
     *                 it becomes the delegate version in the node's vsn)
     */
    public static SerfAgent start(String name, String profile, int protocol, String... extraArgs) {
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            int gossipPort = freeUdpAndTcpPort();
            int rpcPort = freeTcpPort();
            InetSocketAddress gossip = new InetSocketAddress(LOOPBACK, gossipPort);
            InetSocketAddress rpc = new InetSocketAddress(LOOPBACK, rpcPort);
            List<String> command = new ArrayList<>(List.of("serf", "agent",
                    "-node=" + name,
                    "-bind=127.0.0.1:" + gossipPort,
                    "-advertise=127.0.0.1:" + gossipPort,
                    "-rpc-addr=127.0.0.1:" + rpcPort,
                    "-profile=" + profile,
                    "-protocol=" + protocol,
                    "-log-level=debug"));
            command.addAll(List.of(extraArgs));
            Process process;
            try {
                process = new ProcessBuilder(command).redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start serf", e);
            }
            SerfAgent agent = new SerfAgent(name, gossip, rpc, process);
            long deadline = System.nanoTime() + START_WAIT.toNanos();
            while (System.nanoTime() < deadline && process.isAlive()) {
                if (agent.rpcAnswers()) {
                    return agent;
                }
                sleep(50);
            }
            last = new IOException("serf agent " + name + " did not start: " + agent.output());
            agent.close(); // a port race with another process: try other ports
        }
        throw new UncheckedIOException(last);
    }

    public String name() {
        return name;
    }

    /** The agent's memberlist address (UDP and TCP). */
    public InetSocketAddress gossipAddress() {
        return gossipAddress;
    }

    /** The process id, for signals. */
    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** {@code serf members} as this agent sees them, left and failed members included. */
    public List<SerfMember> members() {
        String json = cli("members", "-format=json");
        List<SerfMember> members = new ArrayList<>();
        Matcher m = MEMBER.matcher(json);
        while (m.find()) {
            members.add(new SerfMember(m.group(1), m.group(2), m.group(4), Integer.parseInt(m.group(7))));
        }
        return members;
    }

    /** The status serf reports for {@code member} (alive, failed, left, leaving), if it knows it. */
    public Optional<String> statusOf(String member) {
        return members().stream().filter(m -> m.name().equals(member)).map(SerfMember::status).findFirst();
    }

    /** Member name to status, for assertion messages. */
    public Map<String, String> statuses() {
        return members().stream().collect(Collectors.toMap(SerfMember::name, SerfMember::status, (a, b) -> b));
    }

    /** Asks the agent to join {@code address} ({@code serf join}). */
    public void join(InetSocketAddress address) {
        cli("join", address.getAddress().getHostAddress() + ":" + address.getPort());
    }

    /** Kills the agent at once (SIGKILL): no leave, no goodbye, like a crashed host. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Everything the agent printed so far (its log at debug level). */
    public String output() {
        return String.join("\n", output);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }

    @Override
    public String toString() {
        return "serf[" + name + " " + gossipAddress + "]";
    }

    private String cli(String... args) {
        List<String> command = new ArrayList<>();
        command.add("serf");
        command.add(args[0]);
        command.add("-rpc-addr=127.0.0.1:" + rpcAddress.getPort());
        command.addAll(List.of(args).subList(1, args.length));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(CLI_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " timed out");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private boolean rpcAnswers() {
        try (Socket s = new Socket()) {
            s.connect(rpcAddress, 200);
        } catch (IOException e) {
            return false;
        }
        try {
            return !members().isEmpty();
        } catch (RuntimeException e) {
            return false;
        }
    }

    private void pumpOutput() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                output.add(line);
            }
        } catch (IOException ignored) {
            // the process is gone; what it printed is kept
        }
    }

    /** A port free for both TCP and UDP right now (serf binds both on it). */
    static int freeUdpAndTcpPort() {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket tcp = new ServerSocket(0, 1, LOOPBACK)) {
                tcp.setReuseAddress(true);
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

    static int freeTcpPort() {
        try (ServerSocket tcp = new ServerSocket(0, 1, LOOPBACK)) {
            return tcp.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
