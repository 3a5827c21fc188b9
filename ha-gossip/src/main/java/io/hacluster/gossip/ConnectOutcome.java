package io.hacluster.gossip;

/**
 * What one TCP connection attempt to an address found ({@link Transport#probeConnect}). Only
 * {@link #REFUSED} is evidence that nothing listens there: the remote kernel answered the SYN with
 * a reset (ECONNREFUSED), which happens when the host is up and the process that owned the port is
 * gone. A stopped process (SIGSTOP, a long GC pause) keeps its listening sockets, and its kernel
 * completes handshakes into the backlog, so it is {@link #ACCEPTED}. A lost host, a partition or a
 * dropped link answers nothing, so it is {@link #TIMED_OUT}; so is every failure that cannot be
 * told apart from those (no route to host, unreachable network, an unknown error).
 */
public enum ConnectOutcome {
    /** The handshake completed: something (or at least its kernel) holds the port open. */
    ACCEPTED,
    /** The remote kernel reset the attempt: the host is up and nothing listens on the port. */
    REFUSED,
    /** No answer in time, or a failure that is no evidence either way. */
    TIMED_OUT
}
