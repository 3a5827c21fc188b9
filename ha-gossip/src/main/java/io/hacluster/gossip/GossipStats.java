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
 * @param probes             failure-detector probes this node started (one per probe interval)
 * @param probesFailed       of those, probes that got no ack, direct, indirect or over TCP (the
 *                           target became suspect)
 * @param suspicions         times this node marked a member suspect (its own probe or a suspect
 *                           message it accepted)
 * @param refutations        times this node refuted a suspect or dead message about itself
 * @param bytesReceived      bytes of datagrams and streams received (as on the wire, before
 *                           decoding), stream replies included
 * @param bytesSent          bytes of datagrams and streams sent, stream replies included
 * @param encryptionDropped  inbound packets and streams dropped because no installed key decrypted
 *                           them, or because they were plaintext while
 *                           {@link GossipConfig#gossipVerifyIncoming()} is on; also encrypted
 *                           input at a node without a keyring
 * @param membersRefused     alive messages for unknown nodes refused by the member-table cap
 *                           ({@link GossipConfig#maxMembers()}) or the admission rate
 *                           ({@link GossipConfig#memberAdmissionsPerSecond()})
 * @param fastPathDeaths     nodes this node declared dead on crash evidence
 *                           ({@link Memberlist#probeCrash}: refused connections, no ack by any path)
 *                           instead of through a suspicion timeout
 * @param fastPathAborts     crash-evidence probes that ended without declaring a death (an ack came,
 *                           a connection was accepted or timed out, or the node changed meanwhile);
 *                           the ordinary probe and suspicion path handles those nodes unchanged
 */
public record GossipStats(long packetsReceived, long packetsSent, long streamsReceived, long streamsSent,
                          long malformedDropped, long labelDropped, long rejectedDropped,
                          long overloadDropped, long probes, long probesFailed, long suspicions,
                          long refutations, long bytesReceived, long bytesSent, long encryptionDropped,
                          long membersRefused, long fastPathDeaths, long fastPathAborts) {

    /** The counters of earlier versions; the others zero. */
    public GossipStats(long packetsReceived, long packetsSent, long streamsReceived, long streamsSent,
                       long malformedDropped, long labelDropped, long rejectedDropped, long overloadDropped) {
        this(packetsReceived, packetsSent, streamsReceived, streamsSent, malformedDropped, labelDropped,
                rejectedDropped, overloadDropped, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }
}
