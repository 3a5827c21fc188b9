package io.hacluster.gossip.netty;

/**
 * A snapshot of a {@link NettyTransport}'s counters since it was bound. Every datagram or stream
 * the transport does not hand on, and every send that fails, is counted in exactly one of the
 * drop or error fields, so nothing is lost without a trace.
 *
 * @param packetsSent datagrams handed to the socket successfully
 * @param packetsReceived datagrams delivered to the inbound handler
 * @param packetsDropped datagrams dropped: empty, arriving after close, refused by an inbound
 *     handler that threw, or lost to a socket read error
 * @param packetSendErrors datagrams the socket refused (unresolved address, closed, OS error)
 * @param streamsAccepted inbound streams whose complete message was delivered
 * @param streamsRejected inbound connections closed at once because
 *     {@code maxInboundStreams} were already open, or because the transport was closing
 * @param streamsDropped inbound streams closed without delivery: oversized, malformed framing,
 *     truncated by the peer, timed out, or failed while writing the reply
 * @param exchangesStarted outbound exchanges attempted
 * @param exchangesFailed outbound exchanges whose future failed (connect error, timeout,
 *     oversized or truncated reply, write error)
 */
public record TransportStats(long packetsSent, long packetsReceived, long packetsDropped,
                             long packetSendErrors, long streamsAccepted, long streamsRejected,
                             long streamsDropped, long exchangesStarted, long exchangesFailed) {
}
