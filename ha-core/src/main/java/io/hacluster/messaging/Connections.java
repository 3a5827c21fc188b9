package io.hacluster.messaging;

import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connection handling of the messenger: which handshakes are accepted, what a new or lost
 * connection does to a peer's queues, and the fault injection that cuts links. A peer that gossip
 * declared dead or that left stays refused until gossip reports it alive again, so a departed
 * node's late redial cannot bring it back as a send target.
 */
final class Connections {

    private static final Logger log = LoggerFactory.getLogger(Connections.class);
    private static final int MAX_UNANNOUNCED_PEERS = 1024;

    private final Messenger m;
    private final StreamFaults faults = new Faults();

    Connections(Messenger messenger) {
        this.m = messenger;
    }

    StreamFaults faults() {
        return faults;
    }

    /** A handshake completed on {@code ch} for peer {@code nodeId}; returns the link, or null if refused. */
    PeerLink established(String nodeId, Channel ch, boolean dialed) {
        PeerLink p = m.peers.get(nodeId);
        if (p == null && !dialed) {
            if (m.isDraining() || m.config.security().requireMembership()) {
                return null;
            }
            long unannounced = m.peers.values().stream().filter(l -> l.state == PeerState.UNANNOUNCED).count();
            if (unannounced >= MAX_UNANNOUNCED_PEERS) {
                m.refusalLog.warn("refused connection from {}: {} unannounced peers already", LogText.escape(nodeId),
                        unannounced);
                return null;
            }
            // gossip has not told us of it yet; its messages are accepted, none are sent to it
            p = m.peers.computeIfAbsent(nodeId, id -> m.newLink(id, PeerState.UNANNOUNCED));
        }
        if (p == null) {
            return null;
        }
        Channel old;
        synchronized (p) {
            if (m.isClosed() || m.isCut(nodeId) || p.state.isGone()) {
                return null;
            }
            old = p.channel;
            if (old != null) {
                p.requeueInflight();
            }
            p.channel = ch;
            p.departing = false;  // a GOODBYE came on an older connection; this one is a new process or a redial
            p.dialing = false;
            p.failedDials = 0;
            p.flushScheduled = false;
            p.ackScheduled = false;
            p.readPaused = false;
        }
        m.counters.connectionsEstablished.increment();
        if (old != null) {
            log.debug("connection to {} replaced by a newer one", nodeId);
            old.close();
        }
        log.debug("node {} connected to {} ({})", m.self, nodeId, dialed ? "dialed" : "accepted");
        return p;
    }

    /**
     * Starts traffic on a connection that {@link #established} accepted: (re)transmits the queue
     * and acknowledges what was delivered. Called by the stream handler once it knows its link, so
     * a writability change during this first flush is not lost.
     */
    void startTraffic(PeerLink p, Channel ch) {
        m.sender.flush(p, ch);
        m.receiver.scheduleAck(p);
    }

    /**
     * How long a leave reported by gossip waits for the leaver's GOODBYE on a still-open
     * connection. The leaver writes its final ACK and GOODBYE before it starts gossip's leave, so
     * they are normally there first; this only bounds a leaver that hangs in between, and keeps
     * sends to a departed peer failing within about a second.
     */
    static final long LEAVE_GRACE_MILLIS = 1000;

    /**
     * Gossip reports that {@code p} left. When its connection is open and has not said GOODBYE,
     * the leaver's final ACK (and GOODBYE) may still be in flight on it: failing the
     * unacknowledged sends now would report as lost messages the leaver handled. Then the peer is
     * marked LEFT (new sends fail, nobody redials) and settled by GOODBYE, by the connection's
     * close, or after {@link #LEAVE_GRACE_MILLIS}, whichever comes first. Returns whether it waits.
     */
    boolean awaitFinalAcks(PeerLink p) {
        synchronized (p) {
            if (p.leaveGrace != null) {
                return true;
            }
            if (p.channel == null || p.departing || m.isClosed()) {
                return false;
            }
            p.state = PeerState.LEFT;
            try {
                p.leaveGrace = m.timer.schedule(() -> m.settleGone(p, PeerState.LEFT), LEAVE_GRACE_MILLIS,
                        java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                return false;
            }
            return true;
        }
    }

    /**
     * An established connection closed; {@code endedByPeer} when the peer's side ended it (a
     * reset, or an end of stream this node did not start). Such an end without a GOODBYE, while the
     * peer is alive or suspect, is reported to the abrupt-loss listener: the peer's process may
     * have crashed.
     */
    void connectionLost(PeerLink p, Channel ch, boolean endedByPeer) {
        boolean settle;
        boolean abrupt;
        synchronized (p) {
            if (p.channel != ch) {
                return;
            }
            p.channel = null;
            p.requeueInflight();
            p.flushScheduled = false;
            p.ackScheduled = false;
            p.readPaused = false;
            settle = p.leaveGrace != null;
            abrupt = endedByPeer && !settle && !p.departing && !p.state.isGone() && p.address != null
                    && !m.isClosed() && !m.isCut(p.nodeId);
        }
        if (abrupt) {
            m.abruptPeerLoss(p.nodeId, p.address);
        }
        if (settle) {
            m.settleGone(p, PeerState.LEFT);  // the leaver closed: everything it sent has been read
            return;
        }
        log.debug("node {} lost connection to {}", m.self, p.nodeId);
        m.dropIfUnannounced(p);
        m.dialer.scheduleRedial(p);
    }

    /**
     * The peer said GOODBYE on {@code ch}: it is closing, and it wrote the ACK of everything it
     * handled before this frame, which TCP delivered and this node processed first. So whatever is
     * still unacknowledged was not handled there: it fails now, as do requests waiting for its
     * answer, and new sends fail until the peer is alive again, without waiting for gossip's leave.
     */
    void goodbye(PeerLink p, Channel ch) {
        java.util.List<Outgoing> failed = new java.util.ArrayList<>();
        synchronized (p) {
            if (p.channel != ch) {
                return;
            }
            p.departing = true;
            // the frames stay queued, so the stream stays contiguous for replies to the leaver's own
            // requests; only the sends waiting on them are settled
            for (Outgoing o : p.inflight) {
                if (o.ackGroup != null) {
                    failed.add(o);
                }
            }
            for (Outgoing o : p.queued) {
                if (o.ackGroup != null) {
                    failed.add(o);
                }
            }
        }
        String why = "peer " + p.nodeId + " is leaving the cluster";
        if (!failed.isEmpty()) {
            log.info("{}; {} messages it did not handle failed", why, failed.size());
        }
        m.sender.fail(p.nodeId, failed, new PeerUnavailableException(p.nodeId, why + "; message not handled there"));
        m.requests.failFor(p.nodeId, r -> new PeerUnavailableException(p.nodeId, why + " before replying to '"
                + r.event() + "'"));
        boolean leftAlready;
        synchronized (p) {
            leftAlready = p.leaveGrace != null;
        }
        if (leftAlready) {
            m.settleGone(p, PeerState.LEFT);  // gossip's leave came first; the final ACK is processed now
        }
    }

    /** A dial failed before the handshake completed. */
    void dialFailed(String nodeId) {
        PeerLink p = m.peers.get(nodeId);
        if (p != null) {
            m.dialer.failed(p);
        }
    }

    /** {@link StreamFaults} over the messenger's links. */
    private final class Faults implements StreamFaults {

        @Override
        public void cut(String nodeId) {
            m.cutPeers.add(nodeId);
            PeerLink p = m.peers.get(nodeId);
            if (p == null) {
                return;
            }
            Channel ch;
            synchronized (p) {
                ch = p.channel;
                if (p.reconnect != null) {
                    p.reconnect.cancel(false);
                    p.reconnect = null;
                }
            }
            if (ch != null) {
                StreamHandler.reset(ch);
            }
            log.info("fault injection: node {} cut its connection to {}", m.self, nodeId);
        }

        @Override
        public void restore(String nodeId) {
            m.cutPeers.remove(nodeId);
            PeerLink p = m.peers.get(nodeId);
            if (p == null) {
                return;
            }
            synchronized (p) {
                p.failedDials = 0;
            }
            log.info("fault injection: node {} restored its connection to {}", m.self, nodeId);
            m.dialer.dial(p);
        }

        @Override
        public boolean isCut(String nodeId) {
            return m.cutPeers.contains(nodeId);
        }
    }
}
