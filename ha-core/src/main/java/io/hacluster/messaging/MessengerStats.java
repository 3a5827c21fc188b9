package io.hacluster.messaging;

/**
 * A snapshot of a messenger's counters since start. Every drop and every closed connection is
 * counted here.
 *
 * @param sent                reliable and best-effort messages accepted by send methods (per target)
 * @param delivered           messages whose handler ran (or that found no handler)
 * @param acknowledged        reliable messages acknowledged by their target
 * @param retransmitted       reliable frames written again after a reconnect
 * @param duplicatesDropped   reliable frames received again and not delivered twice
 * @param staleDropped        frames of a retired sender epoch, dropped
 * @param unknownEvents       messages for which no handler was registered
 * @param handlerFailures     handlers that threw
 * @param bestEffortViaChannel best-effort messages handed to the {@link BestEffortChannel}
 * @param bestEffortDropped   best-effort messages lost (bad packet, unknown sender, full queue)
 * @param queueFullRejections sends failed with {@link QueueFullException}
 * @param protocolErrors      connections closed for malformed input (bad magic, bad frame, gap)
 * @param oversizeFrames      connections closed for a length prefix above the limit
 * @param handshakeRejections handshakes refused (cluster name, direction, cut, self, key proof,
 *                            certificate binding, not a member, wrong source address)
 * @param idleCloses          connections closed because nothing arrived within the idle timeout
 * @param writeStallCloses    connections closed because the peer stopped reading
 * @param connectionsEstablished handshakes completed
 * @param connectionsClosed   established or half-open connections closed, for any reason
 * @param sendTimeouts        sends whose wait for acknowledgements ended at the send timeout
 * @param drainDropped        frames that arrived while this node was closing and were neither
 *                            handled nor acknowledged (their senders see them fail)
 * @param handshakeOverflows  accepted connections reset at once because
 *                            {@link StreamSecurity#maxPendingHandshakes()} others awaited their handshake
 */
public record MessengerStats(
        long sent,
        long delivered,
        long acknowledged,
        long retransmitted,
        long duplicatesDropped,
        long staleDropped,
        long unknownEvents,
        long handlerFailures,
        long bestEffortViaChannel,
        long bestEffortDropped,
        long queueFullRejections,
        long protocolErrors,
        long oversizeFrames,
        long handshakeRejections,
        long idleCloses,
        long writeStallCloses,
        long connectionsEstablished,
        long connectionsClosed,
        long sendTimeouts,
        long drainDropped,
        long handshakeOverflows) {
}
