package io.hacluster.gossip.netty;

import static org.assertj.core.api.Assertions.assertThat;

import io.hacluster.gossip.ConnectOutcome;
import io.hacluster.gossip.FaultInjectingTransport;
import io.netty.channel.ConnectTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * {@link NettyTransport#probeConnect} over real sockets on 127.0.0.1, with epoll and with NIO: a
 * listening port is ACCEPTED, a closed one REFUSED, a listener whose backlog is full (the kernel
 * drops the SYN, as a lost host would) TIMED_OUT; a fault-injected block is TIMED_OUT even where
 * the port would refuse.
 */
class ProbeConnectLoopbackTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final Duration TIMEOUT = Duration.ofMillis(300);

    private static NettyTransport bind(boolean preferNative) {
        return NettyTransport.bind(NettyTransportConfig.of("probe", new InetSocketAddress(LOOPBACK, 0))
                .withPreferNative(preferNative));
    }

    private static ConnectOutcome probe(NettyTransport t, InetSocketAddress to) throws Exception {
        return t.probeConnect(to, TIMEOUT).get(10, TimeUnit.SECONDS);
    }

    private static InetSocketAddress closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
            return new InetSocketAddress(LOOPBACK, s.getLocalPort());
        }
    }

    @ParameterizedTest(name = "epoll preferred: {0}")
    @ValueSource(booleans = {true, false})
    void listeningIsAcceptedAndClosedIsRefused(boolean preferNative) throws Exception {
        try (NettyTransport t = bind(preferNative); ServerSocket listening = new ServerSocket(0, 8, LOOPBACK)) {
            assertThat(probe(t, new InetSocketAddress(LOOPBACK, listening.getLocalPort())))
                    .isEqualTo(ConnectOutcome.ACCEPTED);
            assertThat(probe(t, closedPort())).isEqualTo(ConnectOutcome.REFUSED);
        }
    }

    @ParameterizedTest(name = "epoll preferred: {0}")
    @ValueSource(booleans = {true, false})
    void aListenerThatAnswersNoSynTimesOut(boolean preferNative) throws Exception {
        List<Socket> fillers = new ArrayList<>();
        try (NettyTransport t = bind(preferNative); ServerSocket full = new ServerSocket(0, 1, LOOPBACK)) {
            InetSocketAddress at = new InetSocketAddress(LOOPBACK, full.getLocalPort());
            // never accept: once the accept queue is full the kernel drops further SYNs unanswered
            boolean filled = false;
            for (int i = 0; i < 16 && !filled; i++) {
                Socket s = new Socket();
                fillers.add(s);
                try {
                    s.connect(at, 200);
                } catch (SocketTimeoutException e) {
                    filled = true;
                }
            }
            assertThat(filled).as("the backlog filled up").isTrue();
            assertThat(probe(t, at)).isEqualTo(ConnectOutcome.TIMED_OUT);
        } finally {
            for (Socket s : fillers) {
                s.close();
            }
        }
    }

    @Test
    void aFaultInjectedBlockTimesOutEvenWhereThePortWouldRefuse() throws Exception {
        InetSocketAddress closed = closedPort();
        try (FaultInjectingTransport t = FaultInjectingTransport.wrap(bind(true))) {
            assertThat(t.probeConnect(closed, TIMEOUT).get(10, TimeUnit.SECONDS)).isEqualTo(ConnectOutcome.REFUSED);
            t.block(closed);
            assertThat(t.probeConnect(closed, TIMEOUT).get(10, TimeUnit.SECONDS)).isEqualTo(ConnectOutcome.TIMED_OUT);
            t.unblock(closed);
            t.isolate();
            assertThat(t.probeConnect(closed, TIMEOUT).get(10, TimeUnit.SECONDS)).isEqualTo(ConnectOutcome.TIMED_OUT);
        }
    }

    @Test
    void onlyARefusalIsClassifiedAsRefused() {
        assertThat(ConnectOutcomes.classify(new ConnectException("Connection refused"))).isEqualTo(ConnectOutcome.REFUSED);
        assertThat(ConnectOutcomes.classify(new IOException("connecting failed",
                new ConnectException("finishConnect(..) failed: Connection refused: /127.0.0.1:1"))))
                .isEqualTo(ConnectOutcome.REFUSED);
        // Netty's connect timeout is a ConnectException too: never a refusal
        assertThat(ConnectOutcomes.classify(new ConnectTimeoutException("connection timed out: /10.0.0.1:8074")))
                .isEqualTo(ConnectOutcome.TIMED_OUT);
        assertThat(ConnectOutcomes.classify(new ConnectException("finishConnect(..) failed: No route to host")))
                .isEqualTo(ConnectOutcome.TIMED_OUT);
        assertThat(ConnectOutcomes.classify(new java.net.NoRouteToHostException("No route to host")))
                .isEqualTo(ConnectOutcome.TIMED_OUT);
        assertThat(ConnectOutcomes.classify(new ConnectException())).isEqualTo(ConnectOutcome.TIMED_OUT);
    }
}
