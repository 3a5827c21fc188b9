package io.hacluster.messaging;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The inbound stream state of peers whose link was dropped (gossip forgot them, or an
 * unannounced peer disconnected), most recent first, bounded. A node that gossip forgot while it
 * kept running (a long partition, a false positive never refuted) may redial and retransmit what
 * it sent before: restoring its stream makes those frames duplicates again instead of deliveries.
 */
final class ForgottenPeers {

    private static final int MAX_REMEMBERED = 1024;

    private final Map<String, InboundStream> streams = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, InboundStream> eldest) {
            return size() > MAX_REMEMBERED;
        }
    };

    synchronized void remember(String nodeId, InboundStream stream) {
        if (stream != null) {
            streams.put(nodeId, stream);
        }
    }

    /** The remembered stream of {@code nodeId}, removed from memory; null if none. */
    synchronized InboundStream recall(String nodeId) {
        return streams.remove(nodeId);
    }
}
