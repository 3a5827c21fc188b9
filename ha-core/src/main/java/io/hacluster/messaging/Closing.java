package io.hacluster.messaging;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a messenger ends: the graceful drain and the stop. Each runs once; a second caller (an
 * application's own shutdown beside the node's hook) waits for the first instead of cutting it
 * short, except on a handler thread, which the drain itself may be waiting for.
 */
final class Closing {

    private static final Logger log = LoggerFactory.getLogger(Closing.class);
    /** How long a second closer waits for the first one's stop (which is itself bounded). */
    private static final long STOP_WAIT_SECONDS = 30;

    private final Messenger m;
    private final CompletableFuture<Boolean> drained = new CompletableFuture<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    Closing(Messenger messenger) {
        this.m = messenger;
    }

    /** See {@link Messenger#drain()}. */
    boolean drain() {
        if (!m.isStarted() || m.isClosed()) {
            return true;
        }
        if (!m.beginDrain()) {
            // another thread drains; a handler thread must not wait for a drain that waits for it
            return SerialExecutor.current() == null
                    && await(drained, m.config.drainTimeout().toSeconds() + STOP_WAIT_SECONDS);
        }
        boolean result = false;
        try {
            result = doDrain();
        } finally {
            drained.complete(result);
        }
        return result;
    }

    private boolean doDrain() {
        // a frame that passed the drain check before the flag was set is in a handler queue once
        // its peer's lock is free: take each lock once, then the handler queues are complete
        for (PeerLink p : m.peers.values()) {
            synchronized (p) {
                p.serial.size();
            }
        }
        long deadline = System.nanoTime() + m.config.drainTimeout().toNanos();
        boolean handled = awaitUntil(deadline, this::handlersIdle);
        List<ChannelFuture> goodbyes = new ArrayList<>();
        for (PeerLink p : m.peers.values()) {
            ChannelFuture f = m.receiver.writeFinalAckAndGoodbye(p);
            if (f != null) {
                goodbyes.add(f);
            }
        }
        for (ChannelFuture f : goodbyes) {
            f.awaitUninterruptibly(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
        boolean acknowledged = awaitUntil(deadline, this::ownMessagesAcknowledged);
        // replies to this node's own requests that came with those acknowledgements complete their
        // requests on a handler thread: let them, before the stop fails what is still pending
        handled &= awaitUntil(deadline, this::handlersIdle);
        if (!handled || !acknowledged) {
            log.warn("node {}: drain incomplete after {} (handlers idle: {}, own messages acknowledged: {})",
                    m.self, m.config.drainTimeout(), handled, acknowledged);
        }
        return handled && acknowledged;
    }

    /** No handler has a message to run; a handler that is itself closing the messenger counts as done. */
    private boolean handlersIdle() {
        SerialExecutor caller = SerialExecutor.current();
        if (!idle(m.selfSerial, caller)) {
            return false;
        }
        for (PeerLink p : m.peers.values()) {
            if (!idle(p.serial, caller)) {
                return false;
            }
        }
        return true;
    }

    private static boolean idle(SerialExecutor s, SerialExecutor caller) {
        return s.idle() || (s == caller && s.size() == 0);
    }

    /** Whether every reliable message to a connected peer was acknowledged (a lost connection cannot ack). */
    private boolean ownMessagesAcknowledged() {
        for (PeerLink p : m.peers.values()) {
            synchronized (p) {
                if (p.channel != null && !p.departing && !p.nothingUnacknowledged()) {
                    return false;
                }
            }
        }
        return true;
    }

    /** See {@link Messenger#closeAbruptly()}: fails what is pending, closes connections, stops threads. */
    void stop() {
        if (!m.beginStop()) {
            if (SerialExecutor.current() == null) {
                await(stopped, STOP_WAIT_SECONDS);
            }
            return;
        }
        try {
            doStop();
        } finally {
            stopped.complete(null);
        }
    }

    private void doStop() {
        List<Outgoing> failed = new ArrayList<>();
        List<Channel> channels = new ArrayList<>();
        for (PeerLink p : m.peers.values()) {
            synchronized (p) {
                failed.addAll(p.drainAll());
                if (p.channel != null) {
                    channels.add(p.channel);
                }
                p.channel = null;
                if (p.reconnect != null) {
                    p.reconnect.cancel(false);
                }
            }
        }
        MessengerClosedException ex = new MessengerClosedException("messenger of node " + m.self + " closed");
        for (Outgoing o : failed) {
            if (o.ackGroup != null && o.ackGroup.failed(o.targetIndex, ex)) {
                o.ackGroup.finish();
            }
        }
        m.failLocalWaits(ex);
        m.requests.failAll(ex);
        if (m.serverChannel != null) {
            m.serverChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        for (Channel c : channels) {
            c.close();
        }
        if (m.io != null) {
            m.io.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        boolean onHandlerThread = SerialExecutor.current() != null;
        shutdown(m.timer, true);
        shutdown(m.handlerPool, !onHandlerThread);  // a handler closing the messenger cannot wait for itself
        shutdown(m.callbacks, true);
        log.info("node {} messaging closed", m.self);
    }

    private static void shutdown(ExecutorService e, boolean wait) {
        e.shutdown();
        if (!wait) {
            return;
        }
        try {
            if (!e.awaitTermination(2, TimeUnit.SECONDS)) {
                e.shutdownNow();
            }
        } catch (InterruptedException ie) {
            e.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private static <T> boolean await(CompletableFuture<T> f, long seconds) {
        try {
            Object r = f.get(seconds, TimeUnit.SECONDS);
            return !(r instanceof Boolean b) || b;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            return false;
        }
    }

    private static boolean awaitUntil(long deadlineNanos, BooleanSupplier condition) {
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadlineNanos >= 0) {
                return false;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return condition.getAsBoolean();
            }
        }
        return true;
    }
}
