package io.hacluster.messaging;

import io.hacluster.ClockOffset;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * Measures each peer's clock offset over the streaming connections (docs/messaging.md, "Clock
 * offset"). Every established connection sends a time request at each {@code interval}; the peer
 * answers at once from its I/O thread with the two timestamps of its own wall clock; the
 * round trip becomes a sample of that peer's {@link ClockOffsetEstimator}.
 *
 * <p>The probe rides in the payload of the PING frame, which every version of this protocol reads
 * and ignores (its handler never looked at the payload): a peer without this feature never
 * answers, and this node simply has no estimate for it. Replies this node did not ask for, stale
 * ones, unknown operations and malformed payloads are ignored and counted; requests beyond
 * {@link #MAX_ANSWERS_PER_SECOND} per connection, or while the connection is not writable, are not
 * answered, counted.
 */
final class ClockProbe {

    static final int OP_TIME_REQUEST = 1;
    static final int OP_TIME_REPLY = 2;
    static final int REQUEST_LENGTH = 1 + 1 + 8;
    static final int REPLY_LENGTH = 1 + 1 + 8 + 8 + 8;
    static final int MAX_ANSWERS_PER_SECOND = 50;
    /** Default time between two requests on one connection. */
    static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);

    private volatile Clock clock = Clock.systemUTC();
    private volatile Duration interval = DEFAULT_INTERVAL;
    private final Map<String, ClockOffsetEstimator> estimators = new ConcurrentHashMap<>();
    private final List<Consumer<String>> newPeerListeners = new CopyOnWriteArrayList<>();
    final LongAdder samples = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder ignored = new LongAdder();
    final LongAdder answered = new LongAdder();
    final LongAdder unanswered = new LongAdder();

    void configure(Clock wallClock, Duration sampleInterval) {
        Objects.requireNonNull(wallClock, "clock");
        Objects.requireNonNull(sampleInterval, "interval");
        if (sampleInterval.isNegative() || sampleInterval.isZero()) {
            throw new IllegalArgumentException("clock sample interval must be positive: " + sampleInterval);
        }
        clock = wallClock;
        interval = sampleInterval;
    }

    Clock clock() {
        return clock;
    }

    /** Estimates older than this are dropped: the connection has been down for many intervals. */
    long maxAgeNanos() {
        return Math.max(Duration.ofSeconds(60).toNanos(), interval.toNanos() * ClockOffsetEstimator.WINDOW * 4);
    }

    void onNewPeer(Consumer<String> listener) {
        newPeerListeners.add(Objects.requireNonNull(listener));
    }

    /** The current estimate of every peer that has one. */
    Map<String, ClockOffset> estimates() {
        long now = System.nanoTime();
        long maxAge = maxAgeNanos();
        Map<String, ClockOffset> out = new HashMap<>();
        estimators.forEach((peer, e) -> {
            ClockOffset o = e.estimate(now, maxAge);
            if (o != null) {
                out.put(peer, o);
            }
        });
        return out;
    }

    /** The current estimate for {@code peer}, or null. */
    ClockOffset estimate(String peer) {
        ClockOffsetEstimator e = estimators.get(peer);
        return e == null ? null : e.estimate(System.nanoTime(), maxAgeNanos());
    }

    void forget(String peer) {
        estimators.remove(peer);
    }

    /** Starts probing on a connection whose handshake just completed; call on its event loop. */
    Session open(PeerLink link, ChannelHandlerContext ctx) {
        Session s = new Session(link, ctx);
        long every = interval.toNanos();
        s.task = ctx.executor().scheduleAtFixedRate(s::request, 0, every, TimeUnit.NANOSECONDS);
        return s;
    }

    static long micros(Instant i) {
        return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000L), i.getNano() / 1_000);
    }

    private ClockOffsetEstimator estimator(String peer) {
        ClockOffsetEstimator e = estimators.get(peer);
        if (e != null) {
            return e;
        }
        ClockOffsetEstimator created = new ClockOffsetEstimator();
        ClockOffsetEstimator raced = estimators.putIfAbsent(peer, created);
        if (raced != null) {
            return raced;
        }
        for (Consumer<String> l : newPeerListeners) {
            try {
                l.accept(peer);
            } catch (RuntimeException ignoredFailure) {
                // a metrics listener must not break the I/O path
            }
        }
        return created;
    }

    /** The probe on one connection; every method runs on the connection's event loop. */
    final class Session {
        private final PeerLink link;
        private final ChannelHandlerContext ctx;
        private ScheduledFuture<?> task;
        private long lastId;
        private long pendingId;
        private long pendingWallMicros;
        private long pendingMono;
        private long answerWindowStart = System.nanoTime();
        private int answersInWindow;

        private Session(PeerLink link, ChannelHandlerContext ctx) {
            this.link = link;
            this.ctx = ctx;
        }

        private void request() {
            if (!ctx.channel().isActive()) {
                close();  // closed before the handler could cancel this (say, during the first flush)
                return;
            }
            if (!ctx.channel().isWritable()) {
                return;  // a request behind a full write buffer would measure the queue, not the network
            }
            long id = ++lastId;
            ByteBuf b = Unpooled.buffer(4 + REQUEST_LENGTH);
            b.writeInt(REQUEST_LENGTH);
            b.writeByte(Wire.PING);
            b.writeByte(OP_TIME_REQUEST);
            b.writeLong(id);
            pendingId = id;
            pendingMono = System.nanoTime();
            pendingWallMicros = micros(clock.instant());
            ctx.writeAndFlush(b, ctx.voidPromise());
        }

        /** A PING frame's payload (the type byte already read); an empty one is a plain keepalive. */
        void onPing(ByteBuf in) {
            if (!in.isReadable()) {
                return;
            }
            int op = in.readUnsignedByte();
            if (op == OP_TIME_REQUEST && in.readableBytes() >= REQUEST_LENGTH - 2) {
                long receivedMicros = micros(clock.instant());
                answer(in.readLong(), receivedMicros);
            } else if (op == OP_TIME_REPLY && in.readableBytes() >= REPLY_LENGTH - 2) {
                long receivedMono = System.nanoTime();
                long receivedMicros = micros(clock.instant());
                long id = in.readLong();
                long t2 = in.readLong();
                long t3 = in.readLong();
                if (id != pendingId || id == 0) {
                    ignored.increment();  // unasked, or the answer to a request a newer one replaced
                    return;
                }
                pendingId = 0;
                ClockOffsetEstimator.Sample s = ClockOffsetEstimator.sample(pendingWallMicros, t2, t3, receivedMicros,
                        pendingMono, receivedMono);
                boolean announced;
                synchronized (link) {
                    announced = link.state != PeerState.UNANNOUNCED;
                }
                if (!announced) {
                    ignored.increment();  // only members get an estimate (and a meter): bounded by membership
                    return;
                }
                (s == null ? rejected : samples).increment();
                estimator(link.nodeId).offer(s);
            } else {
                // a newer operation, or a truncated payload: never fatal (longer payloads are read
                // as far as this version knows, so a later version may append fields)
                ignored.increment();
            }
        }

        private void answer(long id, long receivedMicros) {
            long now = System.nanoTime();
            if (now - answerWindowStart > 1_000_000_000L) {
                answerWindowStart = now;
                answersInWindow = 0;
            }
            if (++answersInWindow > MAX_ANSWERS_PER_SECOND || !ctx.channel().isWritable()) {
                unanswered.increment();
                return;
            }
            ByteBuf b = Unpooled.buffer(4 + REPLY_LENGTH);
            b.writeInt(REPLY_LENGTH);
            b.writeByte(Wire.PING);
            b.writeByte(OP_TIME_REPLY);
            b.writeLong(id);
            b.writeLong(receivedMicros);
            b.writeLong(micros(clock.instant()));
            ctx.writeAndFlush(b, ctx.voidPromise());
            answered.increment();
        }

        void close() {
            if (task != null) {
                task.cancel(false);
            }
        }
    }
}
