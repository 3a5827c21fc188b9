package io.hacluster.db;

/**
 * A replay position measured on one server incarnation. While that incarnation runs, its replay
 * position only grows, so the pair stays a valid lower bound; for any other server behind the same
 * DSN it says nothing.
 *
 * @param incarnation the server the position was measured on
 * @param lsn its {@code pg_last_wal_replay_lsn()} then
 */
record KnownReplay(ServerIncarnation incarnation, long lsn) {

    /** True if a connection to {@code reached} sees everything {@code token} covers. */
    boolean covers(ConsistencyToken token, ServerIncarnation reached) {
        return token.coveredBy(lsn) && incarnation.equals(reached);
    }
}
