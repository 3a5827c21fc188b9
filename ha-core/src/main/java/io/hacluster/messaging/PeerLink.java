package io.hacluster.messaging;

import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Everything this node knows about one remote node: membership state, the outbound reliable
 * stream (epoch, next sequence number, queued and in-flight frames), the current connection, and
 * the inbound stream state used for duplicate suppression. All mutable fields are guarded by
 * {@code this}; callers never do I/O or run user code while holding the lock, except writes on
 * the connection's own event loop.
 */
final class PeerLink {

    private static final int RETIRED_EPOCHS = 8;

    final String nodeId;
    /** Whether this node dials the connection (its id sorts lower). */
    final boolean weDial;
    /** Per-sender FIFO execution of this peer's messages. */
    final SerialExecutor serial;

    PeerState state;
    InetSocketAddress address;

    long outEpoch;
    long nextSeq;
    final ArrayDeque<Outgoing> queued = new ArrayDeque<>();
    final ArrayDeque<Outgoing> inflight = new ArrayDeque<>();
    /** Sends waiting for this peer's acknowledgement, in send order (so in deadline order). */
    final ArrayDeque<AckGroup> waiting = new ArrayDeque<>();
    /** The peer said GOODBYE on its connection: it is closing; sends to it fail until it is alive again. */
    boolean departing;
    /**
     * Gossip said the peer left while its connection was still open without a GOODBYE: its final
     * ACK may be on the way on that connection, so what is unacknowledged is settled when GOODBYE
     * arrives, the connection closes, or this grace ends (see {@code Connections.awaitFinalAcks}).
     */
    java.util.concurrent.ScheduledFuture<?> leaveGrace;
    int pending;
    long pendingBytes;

    Channel channel;
    boolean flushScheduled;
    boolean ackScheduled;
    /** Reliable deliveries since the last ACK was scheduled. */
    int unackedDeliveries;
    boolean readPaused;
    /** Payload bytes received from this peer whose handlers have not run yet. */
    long inboundBytes;
    boolean dialing;
    int failedDials;
    ScheduledFuture<?> reconnect;

    InboundStream inbound;
    private final long[] retired = new long[RETIRED_EPOCHS];
    private int retiredNext;

    PeerLink(String nodeId, boolean weDial, SerialExecutor serial, PeerState state) {
        this.nodeId = nodeId;
        this.weDial = weDial;
        this.serial = serial;
        this.state = state;
        newOutboundEpoch();
    }

    /** Starts a fresh outbound stream: a receiver seeing the new epoch does not mistake seq 1 for a duplicate. */
    void newOutboundEpoch() {
        long e;
        do {
            e = ThreadLocalRandom.current().nextLong();
        } while (e == 0 || e == outEpoch);
        outEpoch = e;
        nextSeq = 1;
    }

    void add(Outgoing o) {
        queued.add(o);
        pending++;
        pendingBytes += o.size();
        if (o.ackGroup != null) {
            waiting.add(o.ackGroup);
        }
    }

    void removed(Outgoing o) {
        pending--;
        pendingBytes -= o.size();
    }

    /** Removes every reliable frame with seq up to {@code seq}; returns them. */
    List<Outgoing> acknowledge(long seq) {
        List<Outgoing> done = new ArrayList<>();
        while (!inflight.isEmpty() && inflight.peek().seq <= seq) {
            Outgoing o = inflight.poll();
            removed(o);
            done.add(o);
        }
        // after a reconnect the acknowledged frames may already be back in the send queue
        for (Iterator<Outgoing> it = queued.iterator(); it.hasNext(); ) {
            Outgoing o = it.next();
            if (!o.reliable()) {
                continue;
            }
            if (o.seq > seq) {
                break;
            }
            it.remove();
            removed(o);
            done.add(o);
        }
        return done;
    }

    /** The connection is gone: unacknowledged frames go back to the front of the queue, in order. */
    void requeueInflight() {
        for (Iterator<Outgoing> it = inflight.descendingIterator(); it.hasNext(); ) {
            queued.addFirst(it.next());
        }
        inflight.clear();
    }

    /** Removes and returns every queued and in-flight frame. */
    List<Outgoing> drainAll() {
        List<Outgoing> all = new ArrayList<>(inflight);
        all.addAll(queued);
        inflight.clear();
        queued.clear();
        waiting.clear();
        pending = 0;
        pendingBytes = 0;
        return all;
    }

    /**
     * Expires the sends waiting on this peer whose deadline passed, oldest first, and forgets the
     * settled ones; adds the groups that this settled to {@code settled}. Sends are queued in
     * deadline order, so the scan stops at the first one not yet due.
     */
    void expireOverdue(long nowNanos, java.time.Duration timeout, List<AckGroup> settled) {
        AckGroup g;
        while ((g = waiting.peek()) != null) {
            if (!g.isSettled() && g.deadlineNanos - nowNanos > 0) {
                return;
            }
            waiting.poll();
            if (g.expire(timeout)) {
                settled.add(g);
            }
        }
    }

    /** Whether every reliable frame sent to this peer was acknowledged. */
    boolean nothingUnacknowledged() {
        return inflight.isEmpty() && queued.stream().noneMatch(Outgoing::reliable);
    }

    void retire(long epoch) {
        retired[retiredNext] = epoch;
        retiredNext = (retiredNext + 1) % RETIRED_EPOCHS;
    }

    boolean isRetired(long epoch) {
        for (long r : retired) {
            if (r == epoch && r != 0) {
                return true;
            }
        }
        return false;
    }
}
