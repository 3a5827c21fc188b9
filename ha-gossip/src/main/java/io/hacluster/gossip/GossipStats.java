package io.hacluster.gossip;

/**
 * Counters of one node's gossip traffic since start, for operators and tests. Every dropped
 * inbound packet or stream is counted under exactly one reason.
 *
 * @param packetsReceived    datagrams handed to the state machine
 * @param packetsSent        datagrams handed to the transport
 * @param streamsReceived    inbound stream messages
 * @param streamsSent        outbound stream exchanges started
 * @param malformedDropped   inbound packets or streams that failed to decode
 * @param labelDropped       inbound traffic whose label did not match
 * @param rejectedDropped    well-formed messages refused (unknown type, wrong target node, alive filter,
 *                           incompatible protocol, over-limit push/pull concurrency)
 * @param overloadDropped    inbound packets dropped because the handoff queue was full
 */
public record GossipStats(long packetsReceived, long packetsSent, long streamsReceived, long streamsSent,
                          long malformedDropped, long labelDropped, long rejectedDropped,
                          long overloadDropped) {
}
