package io.hacluster.db;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;

/** Classifies SQL errors: which mean "this server failed" rather than "this statement failed". */
final class SqlStates {

    /** cannot execute in a read-only transaction: a write reached a standby (or a READ ONLY transaction). */
    static final String READ_ONLY_TRANSACTION = "25006";
    /** Used by the router when it refuses a server in the wrong role at connection time. */
    static final String WRONG_ROLE = "08004";

    private SqlStates() {
    }

    /**
     * True when the error says the server or the connection to it is gone: SQLState class 08,
     * administrator shutdown / crash shutdown / cannot connect now (57P01-57P03), too many
     * connections (53300), or the JDBC connection exception types (including HikariCP's borrow
     * timeout). Walks the cause and next-exception chains a bounded number of steps.
     */
    static boolean isServerFailure(Throwable error) {
        Throwable t = error;
        for (int depth = 0; t != null && depth < 8; depth++) {
            if (t instanceof SQLTransientConnectionException || t instanceof SQLNonTransientConnectionException
                    || t instanceof SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException sql) {
                if (isServerFailureState(sql.getSQLState())) {
                    return true;
                }
                SQLException next = sql.getNextException();
                if (next != null && next != t && isServerFailureState(next.getSQLState())) {
                    return true;
                }
            }
            t = t.getCause() == t ? null : t.getCause();
        }
        return false;
    }

    /**
     * Server failures plus failures a read may simply retry elsewhere: serialization failures,
     * which on a hot standby mean "canceled because of a conflict with recovery" (40001), and
     * deadlocks (40P01).
     */
    static boolean isRetryableRead(Throwable error) {
        if (isServerFailure(error)) {
            return true;
        }
        return error instanceof SQLException sql && ("40001".equals(sql.getSQLState())
                || "40P01".equals(sql.getSQLState()));
    }

    /**
     * Stricter than {@link #isServerFailure}: true only when an SQLState or a network exception in
     * the chain says the server could not be reached. A pool-exhaustion timeout from HikariCP
     * (no SQLState, no cause) is not evidence against the server and must not take it out.
     */
    static boolean isUnreachable(Throwable error) {
        Throwable t = error;
        for (int depth = 0; t != null && depth < 8; depth++) {
            if (t instanceof java.io.IOException) {
                return true;
            }
            if (t instanceof SQLException sql && isServerFailureState(sql.getSQLState())) {
                return true;
            }
            t = t.getCause() == t ? null : t.getCause();
        }
        return false;
    }

    /**
     * True when the error is a timeout (connect, login or read), which on a loaded host or a
     * congested network can happen to a healthy server, unlike a refused connection.
     */
    static boolean isTimeout(Throwable error) {
        Throwable t = error;
        for (int depth = 0; t != null && depth < 8; depth++) {
            if (t instanceof java.net.SocketTimeoutException || t instanceof java.sql.SQLTimeoutException) {
                return true;
            }
            String message = t.getMessage();
            if (message != null && message.contains("timed out")) {
                return true;
            }
            t = t.getCause() == t ? null : t.getCause();
        }
        return false;
    }

    /**
     * True when the server refused the login: SQLState class 28 (28P01 wrong password, 28000 no
     * such role or no pg_hba.conf entry) anywhere in the cause chain. The server is reachable;
     * retrying will not help.
     */
    static boolean isAuthenticationFailure(Throwable error) {
        return authenticationFailureState(error) != null;
    }

    /** The class-28 SQLState of {@link #isAuthenticationFailure an authentication failure}, else null. */
    static String authenticationFailureState(Throwable error) {
        Throwable t = error;
        for (int depth = 0; t != null && depth < 8; depth++) {
            if (t instanceof SQLException sql && sql.getSQLState() != null && sql.getSQLState().startsWith("28")) {
                return sql.getSQLState();
            }
            t = t.getCause() == t ? null : t.getCause();
        }
        return null;
    }

    /**
     * True when a live server refused a new session: too many connections (53300) or
     * {@linkplain #isAuthenticationFailure an authentication failure}. Its existing sessions are
     * unaffected.
     */
    static boolean isSessionRefused(Throwable error) {
        return isAuthenticationFailure(error)
                || error instanceof SQLException sql && "53300".equals(sql.getSQLState());
    }

    static boolean isServerFailureState(String state) {
        return state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02")
                || state.equals("57P03") || state.equals("53300"));
    }

    /** A short description of an error for logs: SQLState plus message, with any DSN password masked. */
    static String describe(Throwable error) {
        if (error == null) {
            return "";
        }
        String state = error instanceof SQLException sql && sql.getSQLState() != null ? sql.getSQLState() + " " : "";
        String message = error.getMessage();
        if ((message == null || message.isBlank()) && error.getCause() != null) {
            message = error.getCause().getMessage();
        }
        String text = message == null ? error.getClass().getSimpleName() : message;
        if (isTimeout(error) && !text.contains("timed out")) {
            // PgJDBC words a login that timed out "The connection attempt failed."; say what happened
            text = text + " (timed out)";
        }
        return state + Dsn.mask(text);
    }
}
