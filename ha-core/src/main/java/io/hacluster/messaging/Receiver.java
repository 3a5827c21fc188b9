package io.hacluster.messaging;

import io.hacluster.ClusterMessage;
import io.hacluster.MessageHandler;
import io.hacluster.SendType;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receive side of the messenger: sequences inbound reliable frames (duplicates dropped,
 * gaps reset the connection), hands them to per-sender FIFO handler queues, acknowledges
 * cumulatively after the handler ran, and pushes back on senders whose handlers fall behind.
 * While the messenger drains for close, new frames are neither handled nor acknowledged.
 */
final class Receiver {

    private static final Logger log = LoggerFactory.getLogger(Receiver.class);
    /** Deliveries after which an ACK goes out even if more messages of the sender are waiting. */
    private static final int ACK_EVERY = 64;

    private final Messenger m;

    Receiver(Messenger messenger) {
        this.m = messenger;
    }

    /**
     * A DATA frame arrived on {@code ch} from {@code p}. Returns false if the frame breaks the
     * sequence (the caller closes the connection so the sender retransmits from its last ack).
     * Sequencing, the drain check and the hand-off to the sender's handler queue happen under one
     * acquisition of {@code p}'s lock, so a drain that has taken every peer's lock once knows no
     * frame can still slip into a handler queue behind it.
     */
    boolean onData(PeerLink p, Channel ch, DataFrame frame) {
        boolean ackDuplicate = false;
        int waiting;
        synchronized (p) {
            if (p.channel != ch || p.state.isGone()) {
                // the rest of a read batch after the peer was declared gone: nobody acknowledges it
                m.counters.staleDropped.increment();
                return true;
            }
            InboundStream in = null;
            if (frame.reliable()) {
                in = p.inbound;
                if (in == null || in.epoch != frame.epoch()) {
                    if (p.isRetired(frame.epoch())) {
                        m.counters.staleDropped.increment();
                        return true;
                    }
                    if (in != null) {
                        p.retire(in.epoch);
                    }
                    // a sender that survived our restart resumes above what our predecessor acknowledged
                    in = new InboundStream(frame.epoch(), frame.seq() - 1);
                    p.inbound = in;
                }
                if (frame.seq() <= in.received) {
                    ackDuplicate = true;
                } else if (frame.seq() > in.received + 1) {
                    log.warn("sequence gap from {}: expected {}, got {}; resetting connection", p.nodeId,
                            in.received + 1, frame.seq());
                    return false;
                } else if (dropWhileDraining(p, in, frame)) {
                    return true;
                } else {
                    in.received = frame.seq();
                }
            } else if (m.isDraining()) {
                m.counters.drainDropped.increment();
                return true;
            }
            if (!ackDuplicate) {
                p.inboundBytes += frame.body().data().length;
                InboundStream stream = in;
                waiting = p.serial.execute(() -> deliver(p, frame, stream));
            } else {
                waiting = 0;
            }
        }
        if (ackDuplicate) {
            m.counters.duplicatesDropped.increment();
            scheduleAck(p);
            return true;
        }
        MessengerConfig c = m.config;
        if (waiting < c.inboundHighWater() && !overBytes(p)) {
            return true;
        }
        synchronized (p) {
            // too much waiting for this sender's handlers: stop reading, TCP pushes back on the sender.
            // Re-read the queue size under the lock: afterDelivery resumes under the same lock, so a
            // queue that drained meanwhile is seen here and never leaves reading paused for good.
            if ((p.serial.size() >= c.inboundHighWater() || p.inboundBytes > c.maxPendingBytesPerPeer())
                    && p.channel == ch && !p.readPaused) {
                p.readPaused = true;
                ch.config().setAutoRead(false);
            }
        }
        return true;
    }

    /**
     * While closing, nothing new is handled, so that everything acknowledged was handled and
     * everything else fails at its sender (on this node's GOODBYE) instead of running here and
     * again after a restart. Replies to this node's own requests still complete them, until the
     * first frame of the stream is dropped: after that, accepting a later frame would acknowledge
     * the dropped one. Caller holds {@code p}'s lock.
     */
    private boolean dropWhileDraining(PeerLink p, InboundStream in, DataFrame frame) {
        if (!m.isDraining()) {
            return false;
        }
        boolean reply = frame.kind() == MessageKind.REPLY || frame.kind() == MessageKind.ERROR_REPLY;
        if (reply && !in.dropping) {
            return false;
        }
        // taken in sequence but never delivered: the stream stays contiguous (no gap, no reset),
        // and the cumulative ACK, which reports what was delivered, never covers it
        in.received = frame.seq();
        in.dropping = true;
        m.counters.drainDropped.increment();
        return true;
    }

    private boolean overBytes(PeerLink p) {
        synchronized (p) {
            return p.inboundBytes > m.config.maxPendingBytesPerPeer();
        }
    }

    boolean isReadPaused(PeerLink p) {
        synchronized (p) {
            return p.readPaused;
        }
    }

    /**
     * Decodes one packet that arrived on the best-effort channel and hands it to its handler.
     * Malformed packets and packets from unknown or departed senders are dropped and counted.
     */
    void onBestEffortPacket(byte[] packet) {
        Wire.Packet decoded;
        try {
            decoded = Wire.decodePacket(packet, m.config.maxFrameSize());
        } catch (ProtocolException | RuntimeException e) {
            m.counters.bestEffortDropped.increment();
            log.debug("dropped malformed best-effort packet of {} bytes: {}", packet.length, e.getMessage());
            return;
        }
        PeerLink p = m.peers.get(decoded.senderId());
        if (p == null || m.isDraining()) {
            m.counters.bestEffortDropped.increment();
            log.debug("dropped best-effort packet from unknown node {}", LogText.escape(decoded.senderId()));
            return;
        }
        int size = decoded.body().data().length;
        synchronized (p) {
            if (!p.state.acceptsSends() || p.serial.size() >= m.config.inboundHighWater()
                    || p.inboundBytes + size > m.config.maxPendingBytesPerPeer()) {
                m.counters.bestEffortDropped.increment();
                log.debug("dropped best-effort packet from {}: departed, or its handler queue is full", p.nodeId);
                return;
            }
            p.inboundBytes += size;
        }
        DataFrame frame = new DataFrame(false, MessageKind.MESSAGE, 0, 0, 0, decoded.body());
        p.serial.execute(() -> deliver(p, frame, null));
    }

    void scheduleAck(PeerLink p) {
        Channel ch;
        synchronized (p) {
            if (p.ackScheduled || p.channel == null || p.inbound == null) {
                return;
            }
            p.ackScheduled = true;
            ch = p.channel;
        }
        ch.eventLoop().execute(() -> writeAck(p, ch));
    }

    /** Writes the cumulative ACK of {@code p}'s current inbound stream. Runs on the channel's event loop. */
    private void writeAck(PeerLink p, Channel ch) {
        long epoch;
        long seq;
        synchronized (p) {
            p.ackScheduled = false;
            if (p.channel != ch || p.inbound == null) {
                return;
            }
            epoch = p.inbound.epoch;
            seq = p.inbound.delivered;
        }
        ch.writeAndFlush(Wire.ack(epoch, seq), ch.voidPromise());
    }

    /**
     * Closing: writes the final cumulative ACK to {@code p} (every handler that ran), then GOODBYE.
     * TCP keeps the order, so when the peer reads GOODBYE it has processed that ACK and knows that
     * whatever is still unacknowledged was not handled here: it fails those messages at once instead
     * of waiting for gossip's leave. Null when {@code p} is not connected.
     */
    ChannelFuture writeFinalAckAndGoodbye(PeerLink p) {
        Channel ch;
        long epoch = 0;
        long seq = 0;
        synchronized (p) {
            if (p.channel == null) {
                return null;
            }
            ch = p.channel;
            if (p.inbound != null) {
                epoch = p.inbound.epoch;
                seq = p.inbound.delivered;
            }
            p.unackedDeliveries = 0;
        }
        if (seq > 0) {
            ch.write(Wire.ack(epoch, seq), ch.voidPromise());
        }
        return ch.writeAndFlush(Wire.goodbye());
    }

    // ------------------------------------------------------------------ delivery (handler threads)

    private void deliver(PeerLink p, DataFrame frame, InboundStream stream) {
        try {
            MessageBody b = frame.body();
            switch (frame.kind()) {
                case REPLY -> completeRequest(p.nodeId, frame.requestId(), b.data(), null);
                case ERROR_REPLY -> completeRequest(p.nodeId, frame.requestId(), null,
                        new RemoteHandlerException(new String(b.data(), StandardCharsets.UTF_8)));
                case MESSAGE, REQUEST -> {
                    ClusterMessage msg = new ClusterMessage(b.event(),
                            frame.reliable() ? SendType.RELIABLE : SendType.BEST_EFFORT, false, b.data(), b.props());
                    Delivery d = new Delivery(p.nodeId, msg, frame.kind() == MessageKind.REQUEST
                            ? bytes -> reply(p, frame.requestId(), b.event(), MessageKind.REPLY, bytes)
                            : null);
                    runHandler(d, err -> reply(p, frame.requestId(), b.event(), MessageKind.ERROR_REPLY,
                            err.getBytes(StandardCharsets.UTF_8)));
                }
            }
        } finally {
            afterDelivery(p, frame, stream);
        }
    }

    /**
     * Records a delivery and, under one lock acquisition, decides whether an ACK must be scheduled
     * and whether reading from the sender may resume.
     */
    private void afterDelivery(PeerLink p, DataFrame frame, InboundStream stream) {
        Channel ackOn = null;
        Channel resume = null;
        MessengerConfig c = m.config;
        synchronized (p) {
            p.inboundBytes -= frame.body().data().length;
            if (stream != null) {
                if (stream.delivered < frame.seq()) {
                    stream.delivered = frame.seq();
                }
                p.unackedDeliveries++;
            }
            // one cumulative ACK per burst: while more of this sender's messages wait, the last of
            // them acknowledges (or every ACK_EVERY, to keep the sender's queue moving)
            if (p.unackedDeliveries > 0 && (p.serial.size() == 0 || p.unackedDeliveries >= ACK_EVERY)
                    && !p.ackScheduled && p.channel != null && p.inbound != null) {
                p.ackScheduled = true;
                p.unackedDeliveries = 0;
                ackOn = p.channel;
            }
            if (p.readPaused && p.serial.size() <= c.inboundHighWater() / 2
                    && p.inboundBytes <= c.maxPendingBytesPerPeer() / 2) {
                p.readPaused = false;
                resume = p.channel;
            }
        }
        if (ackOn != null) {
            Channel ch = ackOn;
            ch.eventLoop().execute(() -> writeAck(p, ch));
        }
        if (resume != null) {
            resume.config().setAutoRead(true);
        }
    }

    /** Runs the handler for {@code d}; {@code errorReply} answers a request that cannot be handled. */
    private void runHandler(Delivery d, Consumer<String> errorReply) {
        MessageHandler h = m.handlers.get(d.event());
        m.counters.delivered.increment();
        if (h == null) {
            m.counters.unknownEvents.increment();
            log.debug("no handler for event '{}' from {}", LogText.escape(d.event()), d.senderId());
            if (d.claimForError()) {
                errorReply.accept("no handler for event '" + d.event() + "' on node " + m.self);
            }
            return;
        }
        MessengerObserver observer = m.observer;
        long started = observer == MessengerObserver.NONE ? 0 : System.nanoTime();
        boolean failed = false;
        try {
            h.handle(d);
        } catch (Throwable t) {
            failed = true;
            m.counters.handlerFailures.increment();
            log.warn("handler for event '{}' from {} failed", LogText.escape(d.event()), d.senderId(), t);
            if (d.claimForError()) {
                errorReply.accept("handler for '" + d.event() + "' on node " + m.self + " failed: " + t);
            }
        } finally {
            if (observer != MessengerObserver.NONE) {
                try {
                    observer.handled(d.event(), System.nanoTime() - started, failed);
                } catch (RuntimeException e) {
                    log.debug("messenger observer failed", e);
                }
            }
        }
    }

    private void reply(PeerLink p, long requestId, String event, MessageKind kind, byte[] data) {
        try {
            EncodedBody body = m.sender.encode(event, Map.of(), data);
            Throwable failure = m.sender.enqueue(p, body, true, kind, requestId, null, 0);
            if (failure != null) {
                log.debug("reply to {} for '{}' not sent: {}", p.nodeId, LogText.escape(event), failure.getMessage());
            }
        } catch (FrameTooLargeException e) {
            if (kind == MessageKind.REPLY) {
                reply(p, requestId, event, MessageKind.ERROR_REPLY, e.getMessage().getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private void completeRequest(String from, long requestId, byte[] data, Throwable error) {
        if (!m.requests.complete(from, requestId, data, error)) {
            log.debug("late or unexpected reply {} from {}", requestId, from);
        }
    }

    /** Runs this node's own handler for a message sent to its own id. */
    CompletableFuture<SendResult> deliverLocally(ClusterMessage msg) {
        if (m.selfSerial.size() >= m.config.inboundHighWater()) {
            m.counters.queueFullRejections.increment();
            return CompletableFuture.failedFuture(new QueueFullException("local handler queue of " + m.self + " is full"));
        }
        m.counters.sent.increment();
        java.util.List<String> targets = java.util.List.of(m.self);
        boolean waits = msg.sendType() == SendType.RELIABLE && msg.waitForAllToSend();
        AckGroup group = new AckGroup(msg.event(), targets, false, System.nanoTime() + m.config.sendTimeout().toNanos());
        if (waits) {
            m.trackLocal(group);  // its deadline and the close apply as to any other send
        } else {
            group.queued(0);
            group.finish();
        }
        m.selfSerial.execute(() -> {
            runHandler(new Delivery(m.self, msg, null), err -> { });
            if (waits) {
                m.untrackLocal(group);
                if (group.acked(0)) {
                    m.completeLater(group::finish);
                }
            }
        });
        return group.future();
    }

    /** Runs this node's own handler for a request to its own id. */
    void requestLocally(ClusterMessage msg, Consumer<byte[]> onReply, Consumer<Throwable> onError) {
        if (m.selfSerial.size() >= m.config.inboundHighWater()) {
            m.counters.queueFullRejections.increment();
            onError.accept(new QueueFullException("local handler queue of " + m.self + " is full"));
            return;
        }
        m.selfSerial.execute(() -> runHandler(new Delivery(m.self, msg, onReply),
                err -> onError.accept(new RemoteHandlerException(err))));
    }
}
