package io.hacluster.gossip;

/**
 * Application state carried by push/pull anti-entropy exchanges (memberlist's
 * {@code LocalState} / {@code MergeRemoteState}). Called on the gossip state machine's thread.
 */
public interface StateDelegate {

    /** The local application state to send; {@code join} is true during a join. May be empty. */
    byte[] localState(boolean join);

    /** Merges a peer's application state received during push/pull. */
    void mergeRemoteState(byte[] remoteState, boolean join);
}
