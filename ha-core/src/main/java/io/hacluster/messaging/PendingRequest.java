package io.hacluster.messaging;

import java.util.concurrent.CompletableFuture;

/**
 * A request waiting for its reply.
 *
 * @param targetId the node that must answer (a reply from another node is ignored)
 * @param event    the requested event, for error messages
 * @param future   completed with the reply bytes or the failure
 */
record PendingRequest(String targetId, String event, CompletableFuture<byte[]> future) {
}
