package io.hacluster.db;

import java.sql.SQLTransientConnectionException;

/**
 * Thrown to a thread that was waiting for a connection from a pool when a reload retired it; the
 * router then borrows from the pool that replaced it. Never reaches the application.
 */
final class PoolRetiredException extends SQLTransientConnectionException {

    private static final long serialVersionUID = 1L;

    PoolRetiredException(String server) {
        super(server + ": pool retired by a reload while waiting for a connection", "08003");
    }
}
