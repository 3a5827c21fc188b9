package io.hacluster.testkit;

/**
 * A PostgreSQL topology could not do what a test asked: a server did not start (the message
 * carries the last lines of its log), a replica did not replay in time (the message carries the
 * target and replayed LSNs), or the machine lacks something the testkit needs (the message says
 * what to install or run).
 */
public class PostgresTestkitException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** @param message what failed and what to do about it */
    public PostgresTestkitException(String message) {
        super(message);
    }

    /**
     * @param message what failed and what to do about it
     * @param cause the underlying failure
     */
    public PostgresTestkitException(String message, Throwable cause) {
        super(message, cause);
    }
}
