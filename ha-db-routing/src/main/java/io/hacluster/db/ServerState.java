package io.hacluster.db;

/** What the router last learned about one server. Only {@link #HEALTHY} replicas are in rotation. */
public enum ServerState {
    /** Not checked yet. */
    UNKNOWN,
    /** Reachable, in the expected role and (for replicas) within both lag limits. */
    HEALTHY,
    /** A reachable replica over the byte or time lag limit. */
    LAGGING,
    /** Unreachable, or a connection to it failed while in use. */
    DOWN,
    /** In the wrong role: a master in recovery, or a replica that is not (promoted). */
    WRONG_ROLE
}
