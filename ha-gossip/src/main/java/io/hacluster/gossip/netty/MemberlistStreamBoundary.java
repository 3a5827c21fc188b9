package io.hacluster.gossip.netty;

import io.hacluster.gossip.wire.MalformedMessageException;
import io.hacluster.gossip.wire.StreamFraming;
import io.hacluster.gossip.wire.WireLimits;

import java.nio.ByteBuffer;

/** memberlist's stream message boundary, found by the wire codec's {@link StreamFraming}. */
final class MemberlistStreamBoundary implements MessageBoundary {
    private final StreamFraming framing;

    MemberlistStreamBoundary(WireLimits limits) {
        this.framing = new StreamFraming(limits);
    }

    @Override
    public int completeLength(ByteBuffer bytes) throws MalformedMessageException {
        int length = framing.frameLength(bytes);
        return length == StreamFraming.NEED_MORE ? -1 : length;
    }
}
