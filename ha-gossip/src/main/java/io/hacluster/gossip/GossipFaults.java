package io.hacluster.gossip;

import java.net.InetSocketAddress;
import java.util.Set;

/**
 * Fault injection on one node's gossip traffic, for tests and drills: cut this node off from
 * chosen peers (a network partition) or from everyone (a stalled or isolated process), then
 * heal. Gossip's failure detector then sees the fault as it would see a real one.
 *
 * <p>A blocked peer is cut in both directions at this node: datagrams to it are not sent,
 * datagrams from it are dropped on arrival, stream exchanges to it fail at once (as a rejected
 * connection) and inbound streams whose source the transport reports as that peer are closed
 * without a reply. Peers are named by their gossip address ({@code Member.address()} and port,
 * as they advertise it).
 *
 * <p><b>Streams and source ports.</b> A datagram arrives from the sender's gossip socket, so it
 * always matches. A stream arrives on a connection the sender dialed; {@link SimulatedNetwork}
 * reports the sender's gossip address, but a real TCP transport ({@code NettyTransport})
 * reports the connection's ephemeral source port, which names no peer. On real sockets an
 * inbound stream from a blocked peer therefore passes unless that peer blocks this node too. A
 * clean partition on real sockets configures both sides, as a firewall between two groups does;
 * a one-sided block still stops every datagram in both directions and this node's own streams.
 *
 * <p>Thread-safe. Costs one volatile read per packet or stream while no fault is set.
 */
public interface GossipFaults {

    /** Cuts this node off from the peer at gossip address {@code peer} until {@link #unblock}. */
    void block(InetSocketAddress peer);

    /** Lets traffic to and from {@code peer} through again (unless this node is isolated). */
    void unblock(InetSocketAddress peer);

    /** Whether {@code peer} is currently blocked (isolation aside). */
    boolean isBlocked(InetSocketAddress peer);

    /** The peers currently blocked, as an immutable snapshot. */
    Set<InetSocketAddress> blocked();

    /**
     * Drops everything in and out, as peers see a process that is paused (SIGSTOP) or has lost
     * its network, until {@link #endIsolation} or {@link #heal}. Blocks set before stay set.
     */
    void isolate();

    /** Ends the isolation; blocked peers stay blocked. */
    void endIsolation();

    /** Whether this node is isolated. */
    boolean isIsolated();

    /** Removes every fault: ends the isolation and unblocks every peer. */
    void heal();

    /** What the faults have dropped so far; counts only grow. */
    Drops drops();

    /**
     * Counts of traffic the faults stopped.
     *
     * @param packetsOut datagrams not sent
     * @param packetsIn datagrams dropped on arrival
     * @param streamsOut outbound stream exchanges failed
     * @param streamsIn inbound streams closed without a reply
     */
    record Drops(long packetsOut, long packetsIn, long streamsOut, long streamsIn) {

        /** Everything dropped, in both directions. */
        public long total() {
            return packetsOut + packetsIn + streamsOut + streamsIn;
        }
    }
}
