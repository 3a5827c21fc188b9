package io.hacluster.messaging;

/**
 * A decoded DATA frame.
 *
 * @param reliable  whether it is sequenced and acknowledged
 * @param kind      message, request, reply or error reply
 * @param epoch     the sender's stream epoch (reliable only)
 * @param seq       the sequence number within the epoch, from 1 (0 for best effort)
 * @param requestId correlation id of a request or reply, else 0
 * @param body      event, props and data
 */
record DataFrame(boolean reliable, MessageKind kind, long epoch, long seq, long requestId, MessageBody body) {
}
