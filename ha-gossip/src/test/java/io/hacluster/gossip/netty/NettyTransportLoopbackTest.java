package io.hacluster.gossip.netty;

import io.hacluster.gossip.Transport;
import io.hacluster.gossip.wire.MalformedMessageException;
import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * NettyTransport alone on 127.0.0.1: datagrams, stream exchanges, and every bound and failure
 * path the state machine relies on. Streams here use a 4-byte length prefix as their message
 * boundary so the transport is tested apart from the memberlist codec.
 */
class NettyTransportLoopbackTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** A message is a big-endian int length followed by that many bytes. */
    static final MessageBoundary LENGTH_PREFIXED = bytes -> {
        if (bytes.remaining() < 4) {
            return -1;
        }
        int length = bytes.getInt(bytes.position());
        if (length < 0) {
            throw new MalformedMessageException(MalformedMessageException.Reason.INVALID_BODY, "negative length " + length);
        }
        return bytes.remaining() >= 4 + length ? 4 + length : -1;
    };

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final ScheduledExecutorService stateMachine = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ha-test-state");
        t.setDaemon(true);
        return t;
    });

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        stateMachine.shutdownNow();
    }

    static byte[] framed(String text) {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
    }

    static String unframed(byte[] message) {
        return new String(message, 4, message.length - 4, StandardCharsets.UTF_8);
    }

    private NettyTransport transport(String name, NettyTransportConfig config) {
        NettyTransport t = NettyTransport.bind(config, () -> LENGTH_PREFIXED);
        closeables.add(t);
        return t;
    }

    private NettyTransport transport(String name) {
        return transport(name, NettyTransportConfig.of(name, new InetSocketAddress(LOOPBACK, 0)));
    }

    /** Records packets and streams; replies to streams from a separate "state machine" thread. */
    final class Recorder implements Transport.Inbound {
        final BlockingQueue<String> packets = new LinkedBlockingQueue<>();
        final BlockingQueue<String> streams = new LinkedBlockingQueue<>();
        final List<String> threads = new CopyOnWriteArrayList<>();
        volatile boolean reply = true;
        volatile boolean neverReply;

        @Override
        public void onPacket(InetSocketAddress from, byte[] packet, long receivedAtNanos) {
            threads.add(Thread.currentThread().getName());
            packets.add(new String(packet, StandardCharsets.UTF_8));
        }

        @Override
        public CompletableFuture<byte[]> onStream(InetSocketAddress from, byte[] message) {
            streams.add(unframed(message));
            CompletableFuture<byte[]> answer = new CompletableFuture<>();
            if (neverReply) {
                return answer;
            }
            stateMachine.execute(() -> answer.complete(reply ? framed("re:" + unframed(message)) : null));
            return answer;
        }
    }

    @Test
    void datagramsFlowBothWaysOnOneSharedPort() throws Exception {
        NettyTransport a = transport("a");
        NettyTransport b = transport("b");
        Recorder ra = new Recorder();
        Recorder rb = new Recorder();
        a.start(ra);
        b.start(rb);

        assertThat(a.boundAddress().getPort()).isPositive();
        assertThat(a.advertiseAddress()).isEqualTo(a.boundAddress());
        // UDP and TCP really listen on the same port: a raw UDP datagram and a TCP connect both reach it.
        try (DatagramSocket raw = new DatagramSocket(0, LOOPBACK)) {
            byte[] hello = "raw".getBytes(StandardCharsets.UTF_8);
            raw.send(new DatagramPacket(hello, hello.length, a.boundAddress()));
        }
        assertThat(ra.packets.poll(10, TimeUnit.SECONDS)).isEqualTo("raw");

        a.sendPacket(b.advertiseAddress(), "ping".getBytes(StandardCharsets.UTF_8));
        b.sendPacket(a.advertiseAddress(), "ack".getBytes(StandardCharsets.UTF_8));
        assertThat(rb.packets.poll(10, TimeUnit.SECONDS)).isEqualTo("ping");
        assertThat(ra.packets.poll(10, TimeUnit.SECONDS)).isEqualTo("ack");
        assertThat(ra.threads).allMatch(name -> name.equals("ha-a-gossip-io"));

        // Large datagram (above the 1400-byte gossip default, below the 64 KiB receive buffer).
        byte[] big = new byte[60_000];
        java.util.Arrays.fill(big, (byte) 'x');
        a.sendPacket(b.advertiseAddress(), big);
        assertThat(rb.packets.poll(10, TimeUnit.SECONDS)).hasSize(60_000);
        await().atMost(WAIT).until(() -> a.stats().packetsSent() == 2 && b.stats().packetsReceived() == 2);
    }

    @Test
    void usesEpollWhenTheNativeLibraryLoads() {
        NettyTransport t = transport("n");
        if (System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").equals("amd64")) {
            // netty-transport-native-epoll:linux-x86_64 is a runtime dependency: it must load here.
            assertThat(Epoll.isAvailable()).as("epoll unavailable: %s", Epoll.unavailabilityCause()).isTrue();
        }
        assertThat(t.isNative()).isEqualTo(Epoll.isAvailable());
        NettyTransport nio = transport("nio", NettyTransportConfig.of("nio", new InetSocketAddress(LOOPBACK, 0))
                .withPreferNative(false));
        assertThat(nio.isNative()).isFalse();
        Recorder r = new Recorder();
        nio.start(r);
        t.start(new Recorder());
        t.sendPacket(nio.advertiseAddress(), "over nio".getBytes(StandardCharsets.UTF_8));
        await().atMost(WAIT).until(() -> "over nio".equals(r.packets.peek()));
    }

    @Test
    void exchangeReturnsTheReplyProducedOnTheStateMachineThread() throws Exception {
        NettyTransport a = transport("a");
        NettyTransport b = transport("b");
        a.start(new Recorder());
        Recorder rb = new Recorder();
        b.start(rb);

        byte[] reply = a.exchange(b.advertiseAddress(), framed("push"), true, WAIT).get(10, TimeUnit.SECONDS);
        assertThat(unframed(reply)).isEqualTo("re:push");
        assertThat(rb.streams.poll()).isEqualTo("push");

        // A large request and reply (1 MiB each) cross in many TCP segments.
        String large = "y".repeat(1 << 20);
        byte[] bigReply = a.exchange(b.advertiseAddress(), framed(large), true, WAIT).get(10, TimeUnit.SECONDS);
        assertThat(unframed(bigReply)).isEqualTo("re:" + large);

        assertThat(a.exchange(b.advertiseAddress(), framed("fire and forget"), false, WAIT)
                .get(10, TimeUnit.SECONDS)).isNull();
        assertThat(rb.streams.poll(10, TimeUnit.SECONDS)).isEqualTo("y".repeat(1 << 20));
        assertThat(rb.streams.poll(10, TimeUnit.SECONDS)).isEqualTo("fire and forget");
        await().atMost(WAIT).until(() -> b.stats().streamsAccepted() == 3);
        assertThat(a.stats().exchangesStarted()).isEqualTo(3);
        assertThat(a.stats().exchangesFailed()).isZero();
    }

    @Test
    void inboundStreamWaitsForTheWholeMessageAcrossSlowWrites() throws Exception {
        NettyTransport b = transport("b");
        Recorder rb = new Recorder();
        b.start(rb);
        byte[] message = framed("slowly delivered");
        try (Socket socket = new Socket(LOOPBACK, b.boundAddress().getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(message, 0, 3); // not even the length yet
            out.flush();
            Thread.sleep(150); // lets the server see a partial message; the assertion is on order, not time
            assertThat(rb.streams).isEmpty();
            out.write(message, 3, message.length - 3);
            out.flush();
            byte[] reply = socket.getInputStream().readAllBytes(); // server closes after the reply
            assertThat(unframed(reply)).isEqualTo("re:slowly delivered");
        }
    }

    @Test
    void truncatedOversizedAndMalformedStreamsAreDroppedAndCounted() throws Exception {
        NettyTransport b = transport("b", NettyTransportConfig.of("b", new InetSocketAddress(LOOPBACK, 0))
                .withMaxStreamBytes(4096));
        Recorder rb = new Recorder();
        b.start(rb);
        int port = b.boundAddress().getPort();

        // Peer closes its side half-way through a message.
        try (Socket socket = new Socket(LOOPBACK, port)) {
            socket.getOutputStream().write(framed("cut short"), 0, 7);
            socket.shutdownOutput();
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
        // A message announcing more than the bound.
        try (Socket socket = new Socket(LOOPBACK, port)) {
            socket.setSoTimeout(10_000);
            byte[] huge = framed("z".repeat(10_000));
            try {
                socket.getOutputStream().write(huge);
                assertThat(socket.getInputStream().read()).isEqualTo(-1);
            } catch (IOException reset) {
                // the server may close while we are still writing: a reset is as good as EOF here
            }
        }
        // A boundary error (negative length).
        try (Socket socket = new Socket(LOOPBACK, port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(new byte[]{(byte) 0xff, 0, 0, 0});
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
        await().atMost(WAIT).until(() -> b.stats().streamsDropped() == 3);
        assertThat(rb.streams).isEmpty();

        // The transport still serves well-formed streams afterwards.
        NettyTransport a = transport("a");
        a.start(new Recorder());
        assertThat(unframed(a.exchange(b.advertiseAddress(), framed("still fine"), true, WAIT)
                .get(10, TimeUnit.SECONDS))).isEqualTo("re:still fine");
    }

    @Test
    void oversizedOrTruncatedRepliesFailTheExchange() throws Exception {
        NettyTransport a = transport("a", NettyTransportConfig.of("a", new InetSocketAddress(LOOPBACK, 0))
                .withMaxStreamBytes(4096));
        a.start(new Recorder());
        NettyTransport b = transport("b");
        b.start(new Transport.Inbound() {
            @Override
            public void onPacket(InetSocketAddress from, byte[] packet, long receivedAtNanos) {
            }

            @Override
            public CompletableFuture<byte[]> onStream(InetSocketAddress from, byte[] message) {
                String request = unframed(message);
                byte[] reply = request.equals("big") ? framed("q".repeat(10_000))
                        : java.util.Arrays.copyOf(framed("truncated reply"), 6);
                return CompletableFuture.completedFuture(reply);
            }
        });
        assertThatThrownBy(() -> a.exchange(b.advertiseAddress(), framed("big"), true, WAIT).get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(IOException.class).hasMessageContaining("exceeds the size bound");
        assertThatThrownBy(() -> a.exchange(b.advertiseAddress(), framed("short"), true, WAIT).get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(IOException.class);
        await().atMost(WAIT).until(() -> a.stats().exchangesFailed() == 2);
    }

    @Test
    void exchangeFailsOnRefusedConnectionsAndTimesOutOnSilentPeers() throws Exception {
        NettyTransport a = transport("a");
        a.start(new Recorder());

        // Nothing listens on a port we just released.
        int closedPort;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, LOOPBACK)) {
            closedPort = probe.getLocalPort();
        }
        assertThatThrownBy(() -> a.exchange(new InetSocketAddress(LOOPBACK, closedPort), framed("x"), true, WAIT)
                .get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(IOException.class);

        // A peer that accepts but never answers: the exchange fails with a timeout, and the
        // peer's own deadline closes its side and counts the drop.
        NettyTransport silent = transport("silent", NettyTransportConfig.of("silent", new InetSocketAddress(LOOPBACK, 0))
                .withInboundStreamTimeout(Duration.ofMillis(500)));
        Recorder never = new Recorder();
        never.neverReply = true;
        silent.start(never);
        assertThatThrownBy(() -> a.exchange(silent.advertiseAddress(), framed("hello?"), true, Duration.ofMillis(300))
                .get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(TimeoutException.class);
        await().atMost(WAIT).until(() -> silent.stats().streamsDropped() == 1);
        assertThat(a.stats().exchangesFailed()).isEqualTo(2);
    }

    @Test
    void inboundStreamsBeyondTheLimitAreClosedAndCounted() throws Exception {
        NettyTransport b = transport("b", NettyTransportConfig.of("b", new InetSocketAddress(LOOPBACK, 0))
                .withMaxInboundStreams(2));
        b.start(new Recorder());
        int port = b.boundAddress().getPort();
        try (Socket first = new Socket(LOOPBACK, port); Socket second = new Socket(LOOPBACK, port)) {
            first.setSoTimeout(300);
            second.setSoTimeout(300);
            await().atMost(WAIT).until(() -> stillOpen(first) && stillOpen(second));
            try (Socket third = new Socket(LOOPBACK, port)) {
                third.setSoTimeout(10_000);
                assertThat(third.getInputStream().read()).isEqualTo(-1);
            }
            assertThat(b.stats().streamsRejected()).isEqualTo(1);
            // The two admitted connections are still served.
            first.setSoTimeout(10_000);
            first.getOutputStream().write(framed("admitted"));
            assertThat(unframed(first.getInputStream().readAllBytes())).isEqualTo("re:admitted");
        }
        // Slots are given back: a new connection is admitted.
        await().atMost(WAIT).untilAsserted(() -> {
            try (Socket again = new Socket(LOOPBACK, port)) {
                again.setSoTimeout(10_000);
                again.getOutputStream().write(framed("later"));
                assertThat(unframed(again.getInputStream().readAllBytes())).isEqualTo("re:later");
            }
        });
    }

    private static boolean stillOpen(Socket socket) {
        try {
            return socket.getInputStream().read() != -1;
        } catch (SocketTimeoutException open) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void handlerFailuresAreCountedAndNeverStopTheTransport() throws Exception {
        NettyTransport b = transport("b");
        BlockingQueue<String> seen = new LinkedBlockingQueue<>();
        b.start(new Transport.Inbound() {
            @Override
            public void onPacket(InetSocketAddress from, byte[] packet, long receivedAtNanos) {
                String text = new String(packet, StandardCharsets.UTF_8);
                if (text.equals("boom")) {
                    throw new IllegalStateException("handler bug");
                }
                seen.add(text);
            }

            @Override
            public CompletableFuture<byte[]> onStream(InetSocketAddress from, byte[] message) {
                throw new IllegalStateException("stream handler bug");
            }
        });
        NettyTransport a = transport("a");
        a.start(new Recorder());
        a.sendPacket(b.advertiseAddress(), "boom".getBytes(StandardCharsets.UTF_8));
        a.sendPacket(b.advertiseAddress(), "after".getBytes(StandardCharsets.UTF_8));
        assertThat(seen.poll(10, TimeUnit.SECONDS)).isEqualTo("after");
        assertThatThrownBy(() -> a.exchange(b.advertiseAddress(), framed("x"), true, WAIT).get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class);
        await().atMost(WAIT).until(() -> b.stats().packetsDropped() == 1 && b.stats().streamsDropped() == 1);
    }

    @Test
    void trafficBeforeStartWaitsAndAfterCloseIsRefused() throws Exception {
        NettyTransport b = transport("b");
        NettyTransport a = transport("a");
        a.start(new Recorder());
        a.sendPacket(b.advertiseAddress(), "early".getBytes(StandardCharsets.UTF_8));
        CompletableFuture<byte[]> early = a.exchange(b.advertiseAddress(), framed("early stream"), true, WAIT);
        Thread.sleep(100); // gives the early traffic time to arrive before start; order is what is checked
        Recorder rb = new Recorder();
        b.start(rb);
        assertThat(rb.packets.poll(10, TimeUnit.SECONDS)).isEqualTo("early");
        assertThat(unframed(early.get(10, TimeUnit.SECONDS))).isEqualTo("re:early stream");

        b.close();
        b.close(); // idempotent
        b.sendPacket(a.advertiseAddress(), "x".getBytes(StandardCharsets.UTF_8));
        assertThat(b.stats().packetSendErrors()).isEqualTo(1);
        assertThatThrownBy(() -> b.exchange(a.advertiseAddress(), framed("x"), true, WAIT).get(1, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class);
        assertThatThrownBy(() -> a.exchange(b.advertiseAddress(), framed("x"), true, WAIT).get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class);
        await().atMost(WAIT).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals("ha-b-gossip-io")));
    }

    @Test
    void closingFromAnIoThreadNeitherThrowsNorDeadlocks() throws Exception {
        NettyTransport b = transport("selfclose");
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.CountDownLatch closedFromIo = new java.util.concurrent.CountDownLatch(1);
        b.start(new Transport.Inbound() {
            @Override
            public void onPacket(InetSocketAddress from, byte[] packet, long receivedAtNanos) {
                try {
                    b.close();
                } catch (Throwable t) {
                    failure.set(t);
                } finally {
                    closedFromIo.countDown();
                }
            }

            @Override
            public CompletableFuture<byte[]> onStream(InetSocketAddress from, byte[] message) {
                return null;
            }
        });
        NettyTransport a = transport("a");
        a.start(new Recorder());
        a.sendPacket(b.advertiseAddress(), "close yourself".getBytes(StandardCharsets.UTF_8));
        assertThat(closedFromIo.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(failure.get()).isNull();
        await().atMost(WAIT).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals("ha-selfclose-gossip-io")));
    }

    @Test
    void aFixedPortInUseIsAClearBindError() throws Exception {
        NettyTransport a = transport("a");
        int taken = a.boundAddress().getPort();
        assertThatThrownBy(() -> NettyTransport.bind(NettyTransportConfig.of("clash", new InetSocketAddress(LOOPBACK, taken))))
                .isInstanceOf(UncheckedIOException.class).hasMessageContaining(String.valueOf(taken));

        // Only the UDP side taken: the error names UDP, and the TCP listener bound first is
        // released again (a port-0 bind retries on exactly this path).
        try (DatagramSocket udpOnly = new DatagramSocket(0, LOOPBACK)) {
            int port = udpOnly.getLocalPort();
            assertThatThrownBy(() -> NettyTransport.bind(NettyTransportConfig.of("udp-clash", new InetSocketAddress(LOOPBACK, port))))
                    .isInstanceOf(UncheckedIOException.class).hasMessageContaining("UDP");
            try (java.net.ServerSocket tcp = new java.net.ServerSocket()) {
                tcp.bind(new InetSocketAddress(LOOPBACK, port));
                assertThat(tcp.getLocalPort()).isEqualTo(port);
            }
        }
        // A Netty event-loop thread finishes its last instructions just after the group's
        // termination future completes, so its exit is awaited (bounded), not sampled once.
        await().atMost(WAIT).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("ha-udp-clash-") || t.getName().startsWith("ha-clash-")));
    }

    @Test
    void advertisedAddressDefaultsToTheBoundOneAndHonoursOverrides() {
        NettyTransport t = transport("adv", NettyTransportConfig.of("adv", new InetSocketAddress(LOOPBACK, 0))
                .withAdvertiseAddress(new InetSocketAddress(LOOPBACK, 0)));
        assertThat(t.advertiseAddress().getPort()).isEqualTo(t.boundAddress().getPort());
        NettyTransport wildcard = transport("any", NettyTransportConfig.of("any", new InetSocketAddress(0)));
        assertThat(wildcard.advertiseAddress().getAddress().isAnyLocalAddress()).isFalse();
        assertThat(wildcard.advertiseAddress().getPort()).isEqualTo(wildcard.boundAddress().getPort());
    }
}
