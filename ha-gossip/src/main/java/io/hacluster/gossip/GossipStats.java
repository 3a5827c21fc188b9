package io.hacluster.gossip;

/**
 * Counters of one node's gossip traffic since start, for operators and tests. Every dropped
 * inbound packet or stream is counted under exactly one reason.
 *
 * @param packetsReceived    datagrams received (before decoding)
 * @param packetsSent        datagrams handed to the transport
 * @param streamsReceived    inbound stream messages
 * @param streamsSent        outbound stream exchanges started
 * @param malformedDropped   inbound packets or streams that failed to decode
 * @param labelDropped       inbound traffic whose label did not match
 * @param rejectedDropped    well-formed messages refused (unknown type, wrong target node, alive filter,
 *                           incompatible protocol, over-limit push/pull concurrency)
 * @param overloadDropped    inbound messages dropped because their handoff queue was full
 *                           (counted per message, not per datagram)
 * @param fastPathDeaths     nodes this node declared dead on crash evidence
 *                           ({@link Memberlist#probeCrash}: refused connections, no ack by any path)
 *                           instead of through a suspicion timeout
 * @param fastPathAborts     crash-evidence probes that ended without declaring a death (an ack came,
 *                           a connection was accepted or timed out, or the node changed meanwhile);
 *                           the ordinary probe and suspicion path handles those nodes unchanged
 */
public record GossipStats(long packetsReceived, long packetsSent, long streamsReceived, long streamsSent,
                          long malformedDropped, long labelDropped, long rejectedDropped,
                          long overloadDropped, long fastPathDeaths, long fastPathAborts) {
}
