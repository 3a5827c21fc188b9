package io.hacluster.gossip;

/** A gossip operation failed: no seed could be joined, a peer refused, a stream broke. */
public class GossipException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public GossipException(String message) {
        super(message);
    }

    public GossipException(String message, Throwable cause) {
        super(message, cause);
    }
}
