package io.hacluster.bench.messaging;

import java.util.concurrent.CompletableFuture;

/**
 * Three nodes in this JVM that can broadcast a payload from one node to the other two and tell
 * when both ran their handler: the common ground of the systems under comparison.
 */
interface BroadcastCluster extends AutoCloseable {

    /** Short name for the results table. */
    String name();

    /** Broadcasts {@code payload} from node {@code from} (0..2); completes when both others handled it. */
    CompletableFuture<?> broadcast(int from, byte[] payload);

    /** Handler invocations across all nodes since start. */
    long delivered();

    @Override
    void close() throws Exception;
}
