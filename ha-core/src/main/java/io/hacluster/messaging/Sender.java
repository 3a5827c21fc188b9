package io.hacluster.messaging;

import io.hacluster.ClusterMessage;
import io.hacluster.SendType;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The send side of the messenger: encodes a message once, queues it per target, writes queues to
 * connections, settles sends on acknowledgements, and ends every wait at the send timeout.
 */
final class Sender {

    private static final Logger log = LoggerFactory.getLogger(Sender.class);

    private final Messenger m;

    Sender(Messenger messenger) {
        this.m = messenger;
    }

    EncodedBody encode(String event, Map<String, String> props, byte[] data) {
        MessengerConfig c = m.config;
        return Wire.encodeBody(event, props, data, c.compressionEnabled(), c.compressionThreshold(), c.maxFrameSize());
    }

    /**
     * Sends one message to each target id. A target the messenger knows nothing of fails with
     * {@link PeerUnavailableException}. The future settles at once unless a reliable message waits
     * for acknowledgements; then the last acknowledgement, failure or the deadline settles it.
     */
    CompletableFuture<SendResult> send(List<String> targetIds, ClusterMessage message, boolean broadcast) {
        if (targetIds.isEmpty()) {
            return CompletableFuture.completedFuture(SendResult.noTargets());
        }
        EncodedBody body;
        try {
            body = encode(message.event(), message.props(), message.data());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        boolean tracked = message.sendType() == SendType.RELIABLE && message.waitForAllToSend();
        AckGroup group = new AckGroup(message.event(), targetIds, broadcast,
                System.nanoTime() + m.config.sendTimeout().toNanos());
        byte[][] packet = new byte[1][];
        boolean settled = false;
        for (int i = 0; i < targetIds.size(); i++) {
            String id = targetIds.get(i);
            PeerLink p = m.peers.get(id);
            Throwable failure = p == null ? new PeerUnavailableException(id, "unknown peer " + id)
                    : sendOne(p, message, body, packet, tracked ? group : null, i);
            if (failure != null) {
                settled |= group.failed(i, failure);
            } else if (!tracked) {
                settled |= group.queued(i);
            }
        }
        if (settled) {
            group.finish(); // everything was decided here, on the caller's thread
        }
        return group.future();
    }

    /** Queues or hands over one message for {@code p}; returns the failure, or null. */
    private Throwable sendOne(PeerLink p, ClusterMessage msg, EncodedBody body, byte[][] packetHolder, AckGroup group,
                              int index) {
        if (msg.sendType() == SendType.BEST_EFFORT) {
            int max = m.bestEffort.maxPacketSize();
            if (max > 0 && body.bytes().length + 3 + 2 + m.self.length() * 3 <= max) {
                if (packetHolder[0] == null) {
                    packetHolder[0] = Wire.bestEffortPacket(m.self, body);
                }
                if (packetHolder[0].length <= max && trySendPacket(p, packetHolder[0])) {
                    m.counters.sent.increment();
                    m.counters.bestEffortViaChannel.increment();
                    return null;
                }
            }
            return enqueue(p, body, false, MessageKind.MESSAGE, 0, null, 0);
        }
        return enqueue(p, body, true, MessageKind.MESSAGE, 0, group, index);
    }

    private boolean trySendPacket(PeerLink p, byte[] packet) {
        synchronized (p) {
            if (!p.state.acceptsSends() || p.departing) {
                return false; // enqueue reports why
            }
        }
        try {
            return m.bestEffort.trySend(p.nodeId, packet);
        } catch (RuntimeException e) {
            log.debug("best-effort channel failed for {}; using the stream", p.nodeId, e);
            return false;
        }
    }

    /**
     * Queues one frame for {@code p} and makes sure a flush follows if it is connected.
     *
     * @param group told about the acknowledgement of a reliable frame, or null
     * @param index   the target's position in {@code group}
     * @return null when queued, else why not (closed, peer gone, queue full)
     */
    Throwable enqueue(PeerLink p, EncodedBody body, boolean reliable, MessageKind kind, long requestId,
                      AckGroup group, int index) {
        Channel flushOn = null;
        synchronized (p) {
            Throwable refusal = m.refusalToSend();
            if (refusal != null && kind != MessageKind.REPLY && kind != MessageKind.ERROR_REPLY) {
                return refusal;
            }
            boolean reply = kind == MessageKind.REPLY || kind == MessageKind.ERROR_REPLY;
            if (!p.state.acceptsSends() || (p.departing && !reply)) {
                return new PeerUnavailableException(p.nodeId, "peer " + p.nodeId
                        + (p.state == PeerState.DEAD ? " is declared dead"
                        : p.state == PeerState.LEFT ? " has left the cluster" : " is leaving the cluster"));
            }
            int size = Wire.DATA_HEADER + body.bytes().length;
            MessengerConfig c = m.config;
            if (p.pending >= c.maxPendingPerPeer() || p.pendingBytes + size > c.maxPendingBytesPerPeer()) {
                m.counters.queueFullRejections.increment();
                return new QueueFullException("queue to " + p.nodeId + " is full ("
                        + p.pending + " messages, " + p.pendingBytes + " bytes pending; peer is " + p.state
                        + (p.channel == null ? ", not connected" : ", connected") + ")");
            }
            long seq = reliable ? p.nextSeq++ : 0;
            byte[] header = Wire.dataHeader(body.bytes().length, reliable, body.compressed(), kind,
                    reliable ? p.outEpoch : 0, seq, requestId);
            Outgoing o = new Outgoing(seq, header, body.bytes(), reliable ? group : null, p.nodeId, index);
            if (reliable && m.observer != MessengerObserver.NONE) {
                o.queuedNanos = System.nanoTime();
            }
            p.add(o);
            if (p.channel != null && !p.flushScheduled) {
                p.flushScheduled = true;
                flushOn = p.channel;
            }
        }
        m.counters.sent.increment();
        if (flushOn != null) {
            Channel ch = flushOn;
            ch.eventLoop().execute(() -> flush(p, ch));
        }
        return null;
    }

    /** Writes queued frames while the channel is writable. Runs on the channel's event loop. */
    void flush(PeerLink p, Channel ch) {
        boolean wrote = false;
        synchronized (p) {
            p.flushScheduled = false;
            if (p.channel != ch) {
                return;
            }
            Outgoing o;
            while (ch.isWritable() && (o = p.queued.poll()) != null) {
                if (o.reliable()) {
                    p.inflight.add(o);
                    if (o.written) {
                        m.counters.retransmitted.increment();
                    }
                    o.written = true;
                } else {
                    p.removed(o);
                }
                ch.write(o.buffer(ch.alloc()), ch.voidPromise());
                wrote = true;
            }
        }
        if (wrote) {
            ch.flush();
        }
    }

    void scheduleFlush(PeerLink p, Channel ch) {
        synchronized (p) {
            if (p.channel != ch || p.flushScheduled || p.queued.isEmpty()) {
                return;
            }
            p.flushScheduled = true;
        }
        ch.eventLoop().execute(() -> flush(p, ch));
    }

    /** A cumulative acknowledgement from {@code p} up to {@code seq} of {@code epoch}. */
    void onAck(PeerLink p, long epoch, long seq) {
        List<Outgoing> done;
        synchronized (p) {
            if (epoch != p.outEpoch) {
                return; // acknowledgement of an abandoned epoch
            }
            if (seq >= p.nextSeq) {
                m.counters.protocolErrors.increment(); // acknowledges what was never sent: ignore it
                log.warn("peer {} acknowledged seq {} but only {} were sent", p.nodeId, seq, p.nextSeq - 1);
                return;
            }
            done = p.acknowledge(seq);
        }
        if (done.isEmpty()) {
            return;
        }
        m.counters.acknowledged.add(done.size());
        MessengerObserver observer = m.observer;
        long now = observer == MessengerObserver.NONE ? 0 : System.nanoTime();
        List<AckGroup> settled = new ArrayList<>();
        for (Outgoing o : done) {
            if (observer != MessengerObserver.NONE && o.queuedNanos != 0) {
                observer.acknowledged(now - o.queuedNanos);
            }
            if (o.ackGroup != null && o.ackGroup.acked(o.targetIndex)) {
                settled.add(o.ackGroup);
            }
        }
        finishLater(settled);
    }

    /**
     * Timer thread: ends the wait of every send whose deadline passed. Its frames stay queued (the
     * stream's order depends on them), so the message may still be delivered later.
     */
    void expireOverdue() {
        long now = System.nanoTime();
        List<AckGroup> settled = new ArrayList<>();
        for (PeerLink p : m.peers.values()) {
            synchronized (p) {
                if (!p.waiting.isEmpty()) {
                    p.expireOverdue(now, m.config.sendTimeout(), settled);
                }
            }
        }
        if (!settled.isEmpty()) {
            m.counters.sendTimeouts.add(settled.size());
            finishLater(settled);
        }
    }

    /** Fails every frame of {@code failed} with {@code cause}, settling their sends later. */
    void fail(String nodeId, List<Outgoing> failed, Throwable cause) {
        List<AckGroup> settled = new ArrayList<>();
        for (Outgoing o : failed) {
            if (o.ackGroup != null && o.ackGroup.failed(o.targetIndex, cause)) {
                settled.add(o.ackGroup);
            }
        }
        finishLater(settled);
    }

    /** Completes settled sends on the callback thread, never on an I/O or handler thread. */
    void finishLater(List<AckGroup> settled) {
        if (settled.isEmpty()) {
            return;
        }
        Runnable r = () -> settled.forEach(AckGroup::finish);
        try {
            m.callbacks.execute(r);
        } catch (RejectedExecutionException e) {
            r.run(); // closing: complete on this thread rather than leave futures hanging
        }
    }
}
