package io.hacluster.messaging;

import java.util.Objects;

/**
 * One node's answer in a {@link Messenger#gather}: either reply bytes or the error that prevented
 * one (timeout, node dead, remote handler failure, no handler).
 *
 * @param nodeId the answering node
 * @param data   the reply, or null when {@code error} is set
 * @param error  the failure, or null on success
 */
public record NodeReply(String nodeId, byte[] data, Throwable error) {

    public NodeReply {
        Objects.requireNonNull(nodeId, "nodeId");
        if ((data == null) == (error == null)) {
            throw new IllegalArgumentException("exactly one of data and error must be set");
        }
    }

    static NodeReply ok(String nodeId, byte[] data) {
        return new NodeReply(nodeId, data, null);
    }

    static NodeReply failed(String nodeId, Throwable error) {
        return new NodeReply(nodeId, null, error);
    }

    /** Whether this entry carries a reply. */
    public boolean isOk() {
        return error == null;
    }

    @Override
    public String toString() {
        return isOk() ? "NodeReply[" + nodeId + ", " + data.length + " bytes]"
                : "NodeReply[" + nodeId + ", error=" + error + "]";
    }
}
