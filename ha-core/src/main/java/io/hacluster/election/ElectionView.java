package io.hacluster.election;

/**
 * What {@link Election#isLeader()} and {@link Election#leader()} read, as the election thread
 * last published it.
 *
 * @param won this node's won leadership, or null
 * @param remote the leader this node follows, or null
 * @param quorumOk whether the quorum (if any) holds
 * @param abstaining whether this node stands aside because it cannot reach the lease database
 */
record ElectionView(LeaderInfo won, LeaderInfo remote, boolean quorumOk, boolean abstaining) {

    static final ElectionView INITIAL = new ElectionView(null, null, true, false);
}
