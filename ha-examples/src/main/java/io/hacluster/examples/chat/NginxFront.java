package io.hacluster.examples.chat;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Debian's nginx in front of chat nodes, run as a child process in a directory of its own
 * ({@code nginx -p DIR -c DIR/nginx.conf}, not a daemon, temp files and logs under DIR,
 * listening on 127.0.0.1 only) with the configuration of {@code ha-examples/nginx/}.
 */
public final class NginxFront implements AutoCloseable {

    private static final List<Path> CANDIDATES = List.of(Path.of("/usr/sbin/nginx"), Path.of("/usr/bin/nginx"),
            Path.of("/usr/local/sbin/nginx"), Path.of("/usr/local/bin/nginx"));

    private final Process process;
    private final Path dir;
    private final int port;

    private NginxFront(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
    }

    /** The nginx binary, if one is installed. */
    public static Optional<Path> binary() {
        return CANDIDATES.stream().filter(Files::isExecutable).findFirst();
    }

    /**
     * Writes the configuration into {@code dir} and starts nginx listening on 127.0.0.1:{@code port}
     * in front of {@code upstreams}; returns once it accepts connections.
     *
     * @throws IllegalStateException if nginx is not installed, or exits, or does not listen within 20 s
     */
    public static NginxFront start(Path dir, int port, List<InetSocketAddress> upstreams) throws IOException, InterruptedException {
        Path nginx = binary().orElseThrow(() -> new IllegalStateException(
                "nginx is not installed (Debian: apt-get install nginx-light)"));
        Files.createDirectories(dir.resolve("tmp"));
        // workers run as nobody when nginx starts as root: let them reach their temp files
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dir.resolve("tmp"), PosixFilePermissions.fromString("rwxrwxrwx"));
        Path conf = dir.resolve("nginx.conf");
        Files.writeString(conf, render(dir, "127.0.0.1:" + port, upstreams));
        Process p = new ProcessBuilder(nginx.toString(), "-p", dir.toString(), "-c", conf.toString(),
                "-e", dir.resolve("error.log").toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("nginx.out").toFile())
                .start();
        NginxFront front = new NginxFront(p, dir, port);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!front.accepts()) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                front.close();
                throw new IllegalStateException("nginx did not start listening on 127.0.0.1:" + port + ": "
                        + tail(dir.resolve("error.log")) + tail(dir.resolve("nginx.out")));
            }
            Thread.sleep(50);
        }
        return front;
    }

    /** The template with the prefix, the listen address and one server line per upstream. */
    static String render(Path prefix, String listen, List<InetSocketAddress> upstreams) {
        String template;
        try (InputStream in = NginxFront.class.getResourceAsStream("/nginx/ha-chat.conf.template")) {
            if (in == null) {
                throw new IllegalStateException("nginx/ha-chat.conf.template is not on the classpath");
            }
            template = new String(in.readAllBytes(), UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String servers = upstreams.stream()
                .map(a -> "        server " + a.getHostString() + ":" + a.getPort() + " max_fails=1 fail_timeout=5s;")
                .collect(Collectors.joining("\n"));
        return template.replace("@PREFIX@", prefix.toAbsolutePath().toString()).replace("@LISTEN@", listen)
                .replace("@UPSTREAMS@", servers);
    }

    /** {@code http://127.0.0.1:PORT/}. */
    public URI uri() {
        return URI.create("http://127.0.0.1:" + port + "/");
    }

    public Path directory() {
        return dir;
    }

    /** Whether the nginx process still runs. */
    public boolean isRunning() {
        return process.isAlive();
    }

    private boolean accepts() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, UTF_8);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size())) + " ";
        } catch (IOException e) {
            return "";
        }
    }

    /** SIGTERM (nginx's fast shutdown), then SIGKILL after 10 s; returns once it has exited. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
