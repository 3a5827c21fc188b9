package io.hacluster.examples.chat;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One chat node in a child JVM ({@code ChatMain node --config FILE}, on this JVM's classpath:
 * the fat jar when run from it, the module's classes in a test), so that it can be killed for
 * real ({@code SIGKILL}: no shutdown hook, no goodbye, sockets reset by the kernel). Its output
 * goes to {@code NAME.log} beside its config.
 */
public final class ChatNodeProcess implements AutoCloseable {

    private static final Pattern READY = Pattern.compile("CHAT-NODE-READY id=([a-z0-9]{26}) http=([^\\s:]+):([0-9]+)");

    private final String name;
    private final Process process;
    private final Path log;
    private final String id;
    private final InetSocketAddress http;

    private ChatNodeProcess(String name, Process process, Path log, String id, InetSocketAddress http) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.id = id;
        this.http = http;
    }

    /**
     * Starts the node and waits (bounded by {@code timeout}) for its ready line.
     *
     * @param httpPort    where it listens on 127.0.0.1 (given on the command line: the config files of
     *     all nodes are the same but for ClusterSettings, or their config hashes would differ, RED)
     * @param environment added to the child's environment: {@code HA_SQLSETTINGS_DATASOURCE} and the
     *     like, so that passwords stay out of the config file and the command line
     */
    public static ChatNodeProcess start(String name, Path config, int httpPort, Map<String, String> environment,
                                        Duration timeout) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path log = config.resolveSibling(name + ".log");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx192m", "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC", "-Djava.net.preferIPv4Stack=true", "-cp", System.getProperty("java.class.path"),
                ChatMain.class.getName(), "node", "--config", config.toString(), "--listen", "127.0.0.1:" + httpPort));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("HA_"));
        pb.environment().putAll(environment);
        Process p = pb.start();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Matcher m = READY.matcher(Files.exists(log) ? Files.readString(log, UTF_8) : "");
            if (m.find()) {
                return new ChatNodeProcess(name, p, log, m.group(1),
                        new InetSocketAddress(m.group(2), Integer.parseInt(m.group(3))));
            }
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException(name + " did not start within " + timeout.toSeconds() + " s (exit "
                        + (p.isAlive() ? "none" : p.exitValue()) + "); its log " + log + " ends: " + tail(log));
            }
            Thread.sleep(50);
        }
    }

    public String name() {
        return name;
    }

    /** The node's cluster id. */
    public String id() {
        return id;
    }

    public InetSocketAddress httpAddress() {
        return http;
    }

    public URI uri() {
        return URI.create("http://" + http.getHostString() + ":" + http.getPort() + "/");
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /** {@code kill -9}: returns once the process is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " (pid " + process.pid() + ") survived SIGKILL for 10 s");
        }
    }

    /** SIGTERM (the node's shutdown hook closes it: HTTP, then it leaves the cluster), SIGKILL after 20 s. */
    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, UTF_8);
            return String.join("\n  ", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    @Override
    public String toString() {
        return name + " " + id + " pid " + process.pid() + " http " + http.getHostString() + ":" + http.getPort();
    }
}
