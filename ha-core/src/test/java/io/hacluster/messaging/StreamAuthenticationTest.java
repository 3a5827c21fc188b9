package io.hacluster.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Who may open a stream, tried with real sockets on loopback: mutual TLS refuses an untrusted
 * client and a trusted node claiming another node's id; the keyed HELLO refuses a stranger who
 * knows the cluster name and a replayed HELLO; without key or certificate, a made-up id and a
 * member's id from another address are refused, and what the address cannot prove is shown too.
 * Every refusal is counted and logged with the peer's text escaped.
 */
class StreamAuthenticationTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    static Path dir;
    private static TestCertificates ca;
    private static TestCertificates otherCa;
    private static TestCertificates.Node certA;
    private static TestCertificates.Node certB;
    private static TestCertificates.Node certAt2;
    private static TestCertificates.Node untrusted;

    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private Logger streamLog;
    private Level oldLevel;

    @BeforeAll
    static void certificates() throws Exception {
        ca = TestCertificates.ca(dir, "trusted");
        otherCa = TestCertificates.ca(dir, "other");
        certA = ca.node("node-a", "127.0.0.1");
        certB = ca.node("node-b", "127.0.0.1");
        certAt2 = ca.node("node-x", "127.0.0.2");
        untrusted = otherCa.node("node-0", "127.0.0.1");
    }

    @BeforeEach
    void captureLog() {
        streamLog = (Logger) LoggerFactory.getLogger(StreamHandler.class);
        oldLevel = streamLog.getLevel();
        streamLog.setLevel(Level.INFO);
        lines.start();
        streamLog.addAppender(lines);
    }

    @AfterEach
    void releaseLog() {
        streamLog.detachAppender(lines);
        streamLog.setLevel(oldLevel);
    }

    private static MessengerConfig.Builder mtls(String id, TestCertificates.Node cert, TlsPeerIdentity identity) {
        StreamTls tls = ca.pemTls(cert, true);
        return Nodes.config(id).security(StreamSecurity.strict().withTlsIdentity(identity)).tls(tls.server(), tls.client());
    }

    private static void echo(Messenger m) {
        m.registerHandler("echo", in -> in.reply(in.data()));
    }

    private static void assertEcho(Messenger from, String to) throws Exception {
        byte[] r = from.request(to, "echo", "hi".getBytes(StandardCharsets.UTF_8), WAIT).get(30, TimeUnit.SECONDS);
        assertThat(new String(r, StandardCharsets.UTF_8)).isEqualTo("hi");
    }

    private List<String> refusals() {
        return lines.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("refused")).toList();
    }

    // ------------------------------------------------------------------ mutual TLS

    @Test
    void mutualTlsRefusesClientsWithoutATrustedCertificate() throws Exception {
        Messenger b = new Messenger(mtls("node-b", certB, TlsPeerIdentity.NODE_ID).build());
        Messenger a = new Messenger(mtls("node-a", certA, TlsPeerIdentity.NODE_ID).build());
        // node-0 has a certificate from another CA; node-1 trusts node-b's CA but has no certificate
        StreamTls foreign = otherCa.pemTls(untrusted, true);
        Messenger stranger = new Messenger(Nodes.config("node-0").tls(foreign.server(), foreign.client()).build());
        SslContext noCert = SslContextBuilder.forClient().sslProvider(SslProvider.JDK)
                .trustManager(ca.caPem.toFile()).endpointIdentificationAlgorithm(null).build();
        Messenger anonymous = new Messenger(Nodes.config("node-1").tls(foreign.server(), noCert).build());
        try (a; b; stranger; anonymous) {
            for (Messenger m : List.of(a, b, stranger, anonymous)) {
                m.start();
            }
            echo(b);
            a.peerAlive("node-b", b.localAddress());
            b.peerAlive("node-a", a.localAddress());
            // node-b even takes both for members: only TLS keeps them out
            for (Messenger m : List.of(stranger, anonymous)) {
                b.peerAlive(m.nodeId(), m.localAddress());
                m.peerAlive("node-b", b.localAddress());
            }
            assertEcho(a, "node-b");
            await().during(Duration.ofSeconds(1)).atMost(WAIT).until(() ->
                    b.connectedPeers().equals(java.util.Set.of("node-a")));
            assertThat(stranger.connectedPeers()).isEmpty();
            assertThat(anonymous.connectedPeers()).isEmpty();
            assertEcho(a, "node-b");
        }
    }

    @Test
    void mutualTlsRefusesATrustedNodeClaimingAnotherNodesId() throws Exception {
        Messenger b = new Messenger(mtls("node-b", certB, TlsPeerIdentity.NODE_ID).build());
        // a node with a trusted certificate, issued to node-a, that calls itself node-0
        Messenger impostor = new Messenger(mtls("node-0", certA, TlsPeerIdentity.NODE_ID).build());
        try (b; impostor) {
            b.start();
            impostor.start();
            b.peerAlive("node-0", impostor.localAddress());  // node-0 is even a member, at this address
            impostor.peerAlive("node-b", b.localAddress());
            await().atMost(WAIT).until(() -> b.stats().handshakeRejections() >= 2);
            assertThat(b.connectedPeers()).isEmpty();
            assertThat(refusals()).anyMatch(l -> l.contains("is not issued to node node-0"));
        }
    }

    @Test
    void aDialerRefusesAServerWhoseCertificateNamesAnotherNode() throws Exception {
        Messenger a = new Messenger(mtls("node-a", certA, TlsPeerIdentity.NODE_ID).build());
        // listens where node-a expects node-b, answers as node-b, holds node-a's (trusted) certificate
        Messenger impostor = new Messenger(mtls("node-b", certA, TlsPeerIdentity.NODE_ID).build());
        try (a; impostor) {
            a.start();
            impostor.start();
            impostor.peerAlive("node-a", a.localAddress());
            a.peerAlive("node-b", impostor.localAddress());
            await().atMost(WAIT).until(() -> a.stats().handshakeRejections() >= 2);
            assertThat(a.connectedPeers()).isEmpty();
            assertThat(refusals()).anyMatch(l -> l.contains("is not issued to node node-b"));
        }
    }

    @Test
    void addressBoundCertificatesRefuseATrustedNodeFromAnotherAddress() throws Exception {
        // the membership's own address check is off, so the certificate alone must refuse
        StreamTls bTls = ca.pemTls(certB, true);
        Messenger b = new Messenger(Nodes.config("node-b").tls(bTls.server(), bTls.client())
                .security(StreamSecurity.strict().withMembership(true, false)).build());
        StreamTls xTls = ca.pemTls(certAt2, true);  // trusted, but names 127.0.0.2
        Messenger impostor = new Messenger(Nodes.config("node-a").tls(xTls.server(), xTls.client())
                .security(StreamSecurity.strict()).build());
        try (b; impostor) {
            b.start();
            impostor.start();
            b.peerAlive("node-a", impostor.localAddress());  // gossip says node-a is at 127.0.0.1
            impostor.peerAlive("node-b", b.localAddress());
            await().atMost(WAIT).until(() -> b.stats().handshakeRejections() >= 2);
            assertThat(b.connectedPeers()).isEmpty();
            assertThat(refusals()).anyMatch(l -> l.contains("does not name 127.0.0.1, the address of node node-a"));
        }
    }

    // ------------------------------------------------------------------ keyed HELLO

    private static MessengerConfig.Builder keyed(String id, byte[] key) {
        return Nodes.config(id).security(StreamSecurity.strict().withKeys(StreamKeys.of(key)));
    }

    @Test
    void keyedHelloRefusesStrangersWhoKnowTheClusterNameButNotTheKey() throws Exception {
        Messenger a = new Messenger(keyed("node-a", KEY).build());
        Messenger b = new Messenger(keyed("node-b", KEY).build());
        byte[] wrong = KEY.clone();
        wrong[0] ^= 1;
        Messenger wrongKey = new Messenger(keyed("node-0", wrong).build());
        try (a; b; wrongKey) {
            a.start();
            b.start();
            wrongKey.start();
            echo(b);
            a.peerAlive("node-b", b.localAddress());
            b.peerAlive("node-a", a.localAddress());
            b.peerAlive("node-0", wrongKey.localAddress());
            wrongKey.peerAlive("node-b", b.localAddress());
            assertEcho(a, "node-b");
            // a plain HELLO from node-0, a member at this address, with the right cluster name
            try (Socket s = new Socket("127.0.0.1", b.localAddress().getPort())) {
                s.getOutputStream().write(bytes(Wire.hello("test-cluster", "node-0")));
                assertClosedByPeer(s);
            }
            await().atMost(WAIT).until(() -> wrongKey.stats().handshakeRejections() >= 1);
            assertThat(b.connectedPeers()).containsExactly("node-a");
            assertThat(wrongKey.connectedPeers()).isEmpty();
            assertThat(refusals()).anyMatch(l -> l.contains("node-0 sent a HELLO without the cluster key's proof"));
            // the wrong key fails on the dialer's side first: node-b's proof does not verify under it
            assertThat(refusals()).anyMatch(l -> l.contains("node-b failed the cluster key proof"));
            assertEcho(a, "node-b");
        }
    }

    @Test
    void aReplayedKeyedHelloIsRefused() throws Exception {
        Messenger a = new Messenger(keyed("node-a", KEY).build());
        Messenger b = new Messenger(keyed("node-b", KEY).build());
        a.start();
        b.start();
        try (a; b; RecordingProxy proxy = new RecordingProxy(b.localAddress())) {
            echo(b);
            b.peerAlive("node-a", a.localAddress());
            a.peerAlive("node-b", proxy.address());  // node-a's dial goes through the recorder
            assertEcho(a, "node-b");
            byte[] recorded = proxy.sentByClient();
            // the dialer's HELLO and AUTH: two frames, each a u32 length then its bytes
            int helloEnd = 4 + readInt(recorded, 0);
            int authEnd = helloEnd + 4 + readInt(recorded, helloEnd);
            assertThat(recorded[4]).isEqualTo(Wire.HELLO);
            assertThat(recorded[helloEnd + 4]).isEqualTo(Wire.AUTH);
            byte[] replay = Arrays.copyOf(recorded, authEnd);
            long before = b.stats().handshakeRejections();
            try (Socket s = new Socket("127.0.0.1", b.localAddress().getPort())) {
                s.getOutputStream().write(replay);
                assertClosedByPeer(s);
            }
            await().atMost(WAIT).until(() -> b.stats().handshakeRejections() > before);
            assertThat(refusals()).anyMatch(l -> l.contains("node-a failed the cluster key proof"));
            assertEcho(a, "node-b");  // the real node-a is unaffected
        }
    }

    // ------------------------------------------------------------------ without key or certificate

    @Test
    void withoutKeyOrCertificateAMadeUpIdOrAMembersIdFromAnotherAddressIsRefused() throws Exception {
        Messenger a = new Messenger(Nodes.config("node-a").security(StreamSecurity.strict()).build());
        Messenger b = new Messenger(Nodes.config("node-b").security(StreamSecurity.strict()).build());
        try (a; b) {
            a.start();
            b.start();
            echo(b);
            a.peerAlive("node-b", b.localAddress());
            b.peerAlive("node-a", a.localAddress());
            assertEcho(a, "node-b");
            try (Socket s = new Socket("127.0.0.1", b.localAddress().getPort())) {  // a made-up id
                s.getOutputStream().write(bytes(Wire.hello("test-cluster", "node-0")));
                assertClosedByPeer(s);
            }
            try (Socket s = new Socket()) {  // node-a's id, from another address
                s.bind(new InetSocketAddress("127.0.0.2", 0));
                s.connect(new InetSocketAddress("127.0.0.1", b.localAddress().getPort()), 5000);
                s.getOutputStream().write(bytes(Wire.hello("test-cluster", "node-a")));
                assertClosedByPeer(s);
            }
            assertThat(refusals()).anyMatch(l -> l.contains("node node-0 is not a current member"));
            assertThat(refusals()).anyMatch(l -> l.contains("node node-a is a member at 127.0.0.1, not at 127.0.0.2"));
            assertThat(b.stats().handshakeRejections()).isGreaterThanOrEqualTo(2);
            assertEcho(a, "node-b");
            // What the address cannot prove: a process on node-a's own host that claims node-a's id
            // is taken for node-a (it replaces node-a's connection). Only a key or a certificate
            // tells them apart; docs/security.md says so.
            try (Socket s = new Socket("127.0.0.1", b.localAddress().getPort())) {
                s.getOutputStream().write(bytes(Wire.hello("test-cluster", "node-a")));
                s.setSoTimeout(5000);
                DataInput in = new DataInput(s.getInputStream());
                assertThat(in.frameType()).isEqualTo(Wire.HELLO);  // accepted: node-b answered its HELLO
            }
            assertEcho(a, "node-b");  // node-a reconnects
        }
    }

    @Test
    void peerTextInRefusalsIsEscapedAndRefusalLinesAreRateLimited() throws Exception {
        Messenger b = new Messenger(Nodes.config("node-b").security(StreamSecurity.strict()).build());
        try (b) {
            b.start();
            for (int i = 0; i < 40; i++) {
                try (Socket s = new Socket("127.0.0.1", b.localAddress().getPort())) {
                    s.getOutputStream().write(bytes(Wire.hello("test-cluster", "node-0\n2026 INFO forged \u001b[31m" + i)));
                    assertClosedByPeer(s);
                }
            }
            await().atMost(WAIT).until(() -> b.stats().handshakeRejections() == 40);
            List<String> written = lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
            assertThat(written).isNotEmpty().allSatisfy(l -> assertThat(l).doesNotContain("\n").doesNotContain("\u001b"));
            assertThat(written).anyMatch(l -> l.contains("node-0\\u000a2026 INFO forged \\u001b[31m"));
            assertThat(written.size()).as("rate-limited").isLessThanOrEqualTo(20);
            assertThat(b.refusalLog.suppressedTotal()).isGreaterThanOrEqualTo(40 - written.size());
        }
    }

    // ------------------------------------------------------------------ helpers

    private static byte[] bytes(ByteBuf buf) {
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    private static int readInt(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }

    /** Reads until the peer closes; fails if it stays open past the bound. */
    static void assertClosedByPeer(Socket s) throws IOException {
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
                // still open
            } catch (IOException e) {
                return;  // reset
            }
        }
        throw new AssertionError("connection still open after " + WAIT);
    }

    /** Reads one frame's type. */
    private record DataInput(InputStream in) {
        byte frameType() throws IOException {
            byte[] head = in.readNBytes(5);
            if (head.length < 5) {
                throw new IOException("closed");
            }
            return head[4];
        }
    }

    /**
     * TCP connections forwarded to {@code target}, recording what the client sent on the first
     * (the only one when the handshake succeeds at once).
     */
    private static final class RecordingProxy implements AutoCloseable {
        private final ServerSocket server = new ServerSocket();
        private final ByteArrayOutputStream fromClient = new ByteArrayOutputStream();
        private final List<Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();

        RecordingProxy(InetSocketAddress target) throws IOException {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            Thread acceptor = new Thread(() -> {
                boolean first = true;
                while (!server.isClosed()) {
                    try {
                        Socket client = server.accept();
                        Socket upstream = new Socket(target.getAddress(), target.getPort());
                        sockets.add(client);
                        sockets.add(upstream);
                        ByteArrayOutputStream record = first ? fromClient : null;
                        first = false;
                        start(() -> pump(upstream, client, null));
                        start(() -> pump(client, upstream, record));
                    } catch (IOException e) {
                        // closed, or the target refused: the client sees its connection go
                    }
                }
            }, "test-proxy");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private static void start(Runnable r) {
            Thread t = new Thread(r, "test-proxy-pump");
            t.setDaemon(true);
            t.start();
        }

        InetSocketAddress address() {
            return new InetSocketAddress("127.0.0.1", server.getLocalPort());
        }

        byte[] sentByClient() {
            synchronized (fromClient) {
                return fromClient.toByteArray();
            }
        }

        private static void pump(Socket from, Socket to, ByteArrayOutputStream record) {
            byte[] buf = new byte[8192];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buf)) >= 0) {
                    if (record != null) {
                        synchronized (record) {
                            record.write(buf, 0, n);
                        }
                    }
                    out.write(buf, 0, n);
                }
            } catch (IOException e) {
                // either side closed
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
