package io.hacluster.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The clock probe on the wire, against a raw-socket peer "node-0": a peer that never answers
 * (an older version) keeps its connection; a peer that answers with its clock 5 s ahead is
 * measured 5 s ahead; unknown, truncated and unasked time frames are ignored, counted, never
 * fatal; and the messenger answers a time request with its own timestamps.
 */
class ClockProbeWireTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private Messenger b;
    private Socket peer;
    private DataInputStream in;
    private DataOutputStream out;

    @BeforeEach
    void start() throws IOException {
        b = new Messenger(Nodes.config("node-b").idleTimeout(Duration.ofSeconds(3)).build());
        b.configureClockSampling(Clock.systemUTC(), Duration.ofMillis(100));
        b.start();
        b.peerAlive("node-0", new InetSocketAddress("127.0.0.1", 9));  // a member, so it gets an estimate
        peer = new Socket();
        peer.connect(new InetSocketAddress("127.0.0.1", b.localAddress().getPort()), 5000);
        peer.setSoTimeout((int) WAIT.toMillis());
        in = new DataInputStream(peer.getInputStream());
        out = new DataOutputStream(peer.getOutputStream());
        ByteBuf hello = Wire.hello("test-cluster", "node-0");
        out.write(ByteBufUtil.getBytes(hello));
        hello.release();
        await().atMost(WAIT).until(() -> b.connectedPeers().contains("node-0"));
    }

    @AfterEach
    void stop() throws IOException {
        peer.close();
        b.close();
    }

    /** The next frame from node-b: type byte first; HELLO and ACK frames are skipped. */
    private byte[] nextFrame() throws IOException {
        while (true) {
            int len = in.readInt();
            assertThat(len).isBetween(1, 1 << 20);
            byte[] f = new byte[len];
            in.readFully(f);
            if (f[0] != Wire.HELLO && f[0] != Wire.ACK) {
                return f;
            }
        }
    }

    /** Reads frames until a time request; returns its id. */
    private long nextTimeRequest() throws IOException {
        while (true) {
            byte[] f = nextFrame();
            if (f[0] == Wire.PING && f.length == ClockProbe.REQUEST_LENGTH && f[1] == ClockProbe.OP_TIME_REQUEST) {
                return java.nio.ByteBuffer.wrap(f, 2, 8).getLong();
            }
        }
    }

    private void ping(byte... payload) throws IOException {
        out.writeInt(1 + payload.length);
        out.writeByte(Wire.PING);
        out.write(payload);
        out.flush();
    }

    private void timeReply(long id, long t2, long t3) throws IOException {
        out.writeInt(ClockProbe.REPLY_LENGTH);
        out.writeByte(Wire.PING);
        out.writeByte(ClockProbe.OP_TIME_REPLY);
        out.writeLong(id);
        out.writeLong(t2);
        out.writeLong(t3);
        out.flush();
    }

    private static long nowMicros() {
        return ClockProbe.micros(Clock.systemUTC().instant());
    }

    @Test
    void aPeerThatNeverAnswersKeepsItsConnectionAndHasNoEstimate() throws IOException {
        for (int i = 0; i < 5; i++) {
            nextTimeRequest();
            ping();  // an older version only ever sends empty keepalives
        }
        assertThat(b.connectedPeers()).contains("node-0");
        assertThat(b.clockOffset("node-0")).isNull();
        assertThat(b.stats().protocolErrors()).isZero();
    }

    @Test
    void aPeerFiveSecondsAheadIsMeasuredFiveSecondsAhead() throws IOException {
        long ahead = 5_000_000;
        for (int i = 0; i < 3; i++) {
            long id = nextTimeRequest();
            long t = nowMicros() + ahead;
            timeReply(id, t, t);
        }
        await().atMost(WAIT).untilAsserted(() -> assertThat(b.clockOffset("node-0")).isNotNull());
        assertThat(b.clockOffset("node-0").offsetMillis()).isBetween(4950.0, 5050.0);
        assertThat(b.clockOffsets()).containsKey("node-0");
        assertThat(b.clockProbeStats().samples()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void oddTimeFramesAreIgnoredAndCountedAndTheMessengerAnswersRequests() throws IOException {
        ping((byte) 99, (byte) 1, (byte) 2);                     // an operation of a later version
        ping((byte) ClockProbe.OP_TIME_REPLY, (byte) 1, (byte) 2); // truncated
        timeReply(123_456_789, Long.MIN_VALUE, Long.MAX_VALUE);   // never asked
        long t1 = nowMicros();
        out.writeInt(ClockProbe.REQUEST_LENGTH);
        out.writeByte(Wire.PING);
        out.writeByte(ClockProbe.OP_TIME_REQUEST);
        out.writeLong(77);
        out.flush();
        byte[] reply;
        do {
            reply = nextFrame();
        } while (!(reply[0] == Wire.PING && reply.length == ClockProbe.REPLY_LENGTH));
        long t4 = nowMicros();
        java.nio.ByteBuffer r = java.nio.ByteBuffer.wrap(reply, 1, reply.length - 1);
        assertThat(r.get()).isEqualTo((byte) ClockProbe.OP_TIME_REPLY);
        assertThat(r.getLong()).isEqualTo(77);
        long t2 = r.getLong();
        long t3 = r.getLong();
        assertThat(t2).isBetween(t1, t3);
        assertThat(t3).isBetween(t2, t4);
        await().atMost(WAIT).untilAsserted(() -> assertThat(b.clockProbeStats().ignored()).isGreaterThanOrEqualTo(3));
        assertThat(b.clockProbeStats().answered()).isEqualTo(1);
        assertThat(b.connectedPeers()).contains("node-0");
        assertThat(b.stats().protocolErrors()).isZero();
    }
}
