package io.hacluster;

import io.hacluster.gossip.Member;
import io.hacluster.gossip.MemberState;
import io.hacluster.gossip.Memberlist;
import io.hacluster.messaging.BestEffortChannel;

/**
 * Best-effort cluster messages as gossip UDP user messages (memberlist's
 * {@code SendBestEffort}), as Mattermost's transport sends them. A message that does not fit
 * in one packet, or whose target gossip does not know as alive, is refused, and the messenger
 * sends it over the stream instead.
 */
final class GossipBestEffortChannel implements BestEffortChannel {

    /**
     * Room left in a UDP packet for what memberlist wraps around a user message: the message
     * type, a compound or compression header, the CRC of protocol 5 and a label.
     */
    static final int PACKET_OVERHEAD = 300;

    private final int maxPacketSize;
    private volatile Memberlist memberlist;

    GossipBestEffortChannel(int udpBufferSize) {
        this.maxPacketSize = Math.max(0, udpBufferSize - PACKET_OVERHEAD);
    }

    /** Connects the channel once gossip runs; until then every packet goes over the stream. */
    void attach(Memberlist memberlist) {
        this.memberlist = memberlist;
    }

    @Override
    public int maxPacketSize() {
        return maxPacketSize;
    }

    @Override
    public boolean trySend(String nodeId, byte[] packet) {
        Memberlist ml = memberlist;
        if (ml == null) {
            return false;
        }
        Member target = ml.member(nodeId);
        if (target == null || target.state() != MemberState.ALIVE) {
            return false;
        }
        try {
            ml.sendBestEffort(target, packet);
            return true;
        } catch (IllegalArgumentException | IllegalStateException tooLargeOrStopped) {
            return false;  // the messenger sends it over the stream instead
        }
    }
}
