package io.hacluster.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.hacluster.ClusterMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Raw sockets attack node-b's streaming port while node-a and node-b exchange messages: each
 * attack closes only the attacking connection, counted, and memory stays bounded.
 */
class HostileInputTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final int MAX_PENDING = 200;

    private Nodes nodes;
    private Messenger a;
    private Messenger b;

    @BeforeEach
    void start() {
        nodes = Nodes.start(2, c -> c
                .idleTimeout(Duration.ofSeconds(2))
                .handshakeTimeout(Duration.ofSeconds(1))
                .writeStallTimeout(Duration.ofSeconds(1))
                .writeBufferWaterMarks(16 * 1024, 64 * 1024)
                .maxPendingPerPeer(MAX_PENDING)
                .compressionEnabled(false));
        a = nodes.get(0);
        b = nodes.get(1);
        b.registerHandler("ping", in -> { });
        await().atMost(WAIT).until(() -> a.connectedPeers().contains("node-b") && b.connectedPeers().contains("node-a"));
    }

    @AfterEach
    void stop() {
        nodes.close();
    }

    private Socket attacker() throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress("127.0.0.1", b.localAddress().getPort()), 5000);
        return s;
    }

    /** The HELLO of a would-be peer whose id sorts below node-b, so node-b accepts it as the dialer. */
    private static byte[] hello(String nodeId) {
        ByteBuf buf = Wire.hello("test-cluster", nodeId);
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    /** Reads until node-b closes the connection; fails if it stays open past the bound. */
    private static void assertClosedByPeer(Socket s) throws IOException {
        s.setSoTimeout(200);
        InputStream in = s.getInputStream();
        byte[] buf = new byte[8192];
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (in.read(buf) < 0) {
                    return;
                }
            } catch (SocketTimeoutException e) {
                // still open: keep waiting
            } catch (IOException e) {
                return; // reset
            }
        }
        throw new AssertionError("connection still open after " + WAIT);
    }

    private void assertHealthyPair() throws Exception {
        a.sendTo("node-b", ClusterMessage.reliable("ping", new byte[10]).waitingForAll(true))
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(a.connectedPeers()).contains("node-b");
    }

    @Test
    void randomBytesCloseOnlyThatConnection() throws Exception {
        Random rnd = new Random(42);
        for (int i = 0; i < 5; i++) {
            try (Socket s = attacker()) {
                byte[] junk = new byte[16 * 1024];
                rnd.nextBytes(junk);
                s.getOutputStream().write(junk);
                assertClosedByPeer(s);
            }
        }
        MessengerStats st = b.stats();
        assertThat(st.protocolErrors() + st.oversizeFrames()).isGreaterThanOrEqualTo(5);
        assertHealthyPair();
    }

    @Test
    void twoGibLengthPrefixIsRefusedBeforeAndAfterTheHandshake() throws Exception {
        try (Socket s = attacker()) {
            new DataOutputStream(s.getOutputStream()).writeInt(0x8000_0000);
            assertClosedByPeer(s);
        }
        try (Socket s = attacker()) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.write(hello("node-0"));
            out.writeInt(0x7FFF_FFFF);
            out.write(new byte[1024]);
            assertClosedByPeer(s);
        }
        assertThat(b.stats().oversizeFrames()).isEqualTo(2);
        assertHealthyPair();
    }

    @Test
    void halfAFrameThenSilenceIsClosedByTimeouts() throws Exception {
        try (Socket s = attacker()) { // before the handshake: the handshake timeout
            s.getOutputStream().write(new byte[] {0, 0, 0, 40, Wire.HELLO, 1, 2});
            assertClosedByPeer(s);
        }
        try (Socket s = attacker()) { // after the handshake: the idle timeout
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.write(hello("node-0"));
            out.writeInt(100);
            out.write(new byte[10]);
            assertClosedByPeer(s);
        }
        assertThat(b.stats().idleCloses()).isGreaterThanOrEqualTo(2);
        assertHealthyPair();
    }

    @Test
    void wrongClusterOrWrongDirectionIsRefused() throws Exception {
        try (Socket s = attacker()) {
            ByteBuf buf = Wire.hello("other-cluster", "node-0");
            s.getOutputStream().write(ByteBufUtil.getBytes(buf));
            buf.release();
            assertClosedByPeer(s);
        }
        try (Socket s = attacker()) { // "node-z" sorts above node-b: node-b must dial it, not accept it
            s.getOutputStream().write(hello("node-z"));
            assertClosedByPeer(s);
        }
        assertThat(b.stats().handshakeRejections()).isEqualTo(2);
        assertHealthyPair();
    }

    @Test
    void aPeerThatNeverReadsHasBoundedQueueAndIsDisconnected() throws Exception {
        try (Socket s = attacker()) {
            s.getOutputStream().write(hello("node-0"));
            await().atMost(WAIT).until(() -> b.connectedPeers().contains("node-0"));
            // it keeps talking (PINGs), so the idle timeout does not save us: only the stall detection can
            Thread pinger = new Thread(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        s.getOutputStream().write(new byte[] {0, 0, 0, 1, Wire.PING});
                        Thread.sleep(200);
                    }
                } catch (IOException | InterruptedException e) {
                    // closed by node-b, or the test is over
                }
            }, "test-pinger");
            pinger.setDaemon(true);
            pinger.start();
            byte[] payload = new byte[16 * 1024];
            int rejected = 0;
            for (int i = 0; i < MAX_PENDING * 3; i++) {
                CompletableFuture<SendResult> f = b.sendTo("node-0", ClusterMessage.reliable("flood", payload));
                if (f.isCompletedExceptionally()) {
                    rejected++;
                }
                assertThat(b.pendingCount("node-0")).isLessThanOrEqualTo(MAX_PENDING);
            }
            assertThat(rejected).isGreaterThanOrEqualTo(MAX_PENDING); // full queue: clear failures, not growth
            assertThat(b.stats().queueFullRejections()).isEqualTo(rejected);
            // meanwhile the healthy peer is unaffected
            assertHealthyPair();
            // the stalled connection is closed once the write buffer stays above the high-water mark
            await().atMost(WAIT).until(() -> b.stats().writeStallCloses() >= 1);
            await().atMost(WAIT).until(() -> !b.connectedPeers().contains("node-0"));
            assertThat(b.pendingCount("node-0")).isLessThanOrEqualTo(MAX_PENDING);
            assertHealthyPair();
            pinger.interrupt();
            pinger.join(5000);
        }
    }
}
