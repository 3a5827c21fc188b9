package io.hacluster.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.hacluster.ClusterMessage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * 5,000 connections that never send a byte, from another process, against a node's StreamingPort:
 * the node holds at most its cap of them (the rest are reset on accept and counted), its
 * descriptor count stays bounded, it writes a bounded number of log lines, and its peer link keeps
 * working. (The landed code held 2,933 descriptors and wrote 5,669 lines.)
 */
class HalfOpenFloodTest {

    private static final int CONNECTIONS = 5_000;
    private static final int CAP = 64;

    @Test
    void fiveThousandHalfOpenConnectionsAreBoundedInDescriptorsAndLogLines() throws Exception {
        Logger streamLog = (Logger) LoggerFactory.getLogger(StreamHandler.class);
        Level old = streamLog.getLevel();
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        streamLog.setLevel(Level.INFO);
        streamLog.addAppender(lines);
        try (Nodes nodes = Nodes.start(2, b -> b.security(StreamSecurity.strict().withMaxPendingHandshakes(CAP)))) {
            Messenger a = nodes.get(0);
            Messenger b = nodes.get(1);
            b.registerHandler("e", in -> { });
            await().atMost(Duration.ofSeconds(20)).until(() -> a.connectedPeers().contains("node-b"));
            long baseline = openDescriptors();
            int linesBefore = lines.list.size();

            Process attacker = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), HalfOpenAttacker.class.getName(), "127.0.0.1",
                    String.valueOf(b.localAddress().getPort()), String.valueOf(CONNECTIONS))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            AtomicInteger maxPending = new AtomicInteger();
            long maxDescriptors = baseline;
            String held;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(attacker.getInputStream(),
                    StandardCharsets.UTF_8))) {
                Thread sampler = new Thread(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        maxPending.accumulateAndGet(b.pendingHandshakes(), Math::max);
                        try {
                            Thread.sleep(5);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "test-pending-sampler");
                sampler.setDaemon(true);
                sampler.start();
                // sample descriptors while the attacker connects (bounded by its own 120 s limit)
                java.util.concurrent.CompletableFuture<String> line = java.util.concurrent.CompletableFuture
                        .supplyAsync(() -> {
                            try {
                                return out.readLine();
                            } catch (IOException e) {
                                return null;
                            }
                        });
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
                while (!line.isDone() && System.nanoTime() < until) {
                    maxDescriptors = Math.max(maxDescriptors, openDescriptors());
                    Thread.sleep(20);
                }
                held = line.get(5, TimeUnit.SECONDS);
                maxDescriptors = Math.max(maxDescriptors, openDescriptors());
                // while every attacking connection is still open on the attacker's side, the healthy pair works
                a.sendTo("node-b", ClusterMessage.reliable("e", new byte[8]).waitingForAll(true)).get(20, TimeUnit.SECONDS);
                sampler.interrupt();
                sampler.join(5000);
            } finally {
                attacker.getOutputStream().close();
                if (!attacker.waitFor(30, TimeUnit.SECONDS)) {
                    attacker.destroyForcibly();
                }
            }
            assertThat(held).startsWith("HELD ");
            MessengerStats st = b.stats();
            int written = lines.list.size() - linesBefore;
            System.out.printf("half-open flood: %s, overflows %d, max pending %d, descriptors %d -> max %d, "
                    + "log lines %d, suppressed %d%n", held, st.handshakeOverflows(), maxPending.get(), baseline,
                    maxDescriptors, written, b.refusalLog.suppressedTotal());
            assertThat(st.handshakeOverflows()).isGreaterThanOrEqualTo(CONNECTIONS - 10L * CAP);
            assertThat(maxPending.get()).isLessThanOrEqualTo(CAP);
            // the node's own descriptors: the capped connections, plus slack for the JVM (class loading, epoll)
            assertThat(maxDescriptors - baseline).isLessThanOrEqualTo(CAP + 64);
            assertThat(written).isLessThanOrEqualTo(50);
            await().atMost(Duration.ofSeconds(30)).until(() -> b.pendingHandshakes() == 0);
        } finally {
            streamLog.detachAppender(lines);
            streamLog.setLevel(old);
        }
    }

    private static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
