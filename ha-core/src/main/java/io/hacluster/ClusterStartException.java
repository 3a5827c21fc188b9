package io.hacluster;

/**
 * {@link ClusterNode#start()} failed: a port could not be bound, the database or the discovery
 * table could not be reached, or the configuration cannot work on this host. Everything the
 * failed start had opened is closed again.
 */
public class ClusterStartException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ClusterStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
