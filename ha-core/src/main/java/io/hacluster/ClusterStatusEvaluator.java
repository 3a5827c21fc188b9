package io.hacluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Turns the membership view into {@link ClusterInfo}s with GREEN/RED status.
 *
 * <p>A mismatch must show on <em>every</em> node, so each node is compared not with the local
 * node but with a cluster-wide reference that every node computes the same way from the same
 * membership: the value (version key, config hash) held by the most reachable nodes; on a tie,
 * the value held by the reachable node with the lowest id, the node the bully election makes
 * leader. With three nodes where one runs another config, that one is RED on all three; with
 * two nodes that differ, the one whose id is higher is RED on both. Clocks follow the same rule
 * ({@link ClockSkewCheck}).
 */
final class ClusterStatusEvaluator {

    private ClusterStatusEvaluator() {
    }

    static List<ClusterInfo> evaluate(List<PeerView> peers) {
        return evaluate(peers, Map.of(), Long.MAX_VALUE);
    }

    /**
     * @param clocks          offsets from the local clock by node id (the local node's included);
     *                        nodes without an estimate are absent
     * @param maxClockSkewMillis the bound past which a node shows {@link StatusReason#CLOCK_SKEW}
     */
    static List<ClusterInfo> evaluate(List<PeerView> peers, Map<String, ClockOffset> clocks, long maxClockSkewMillis) {
        List<PeerView> reachable = peers.stream().filter(PeerView::reachable).toList();
        String versionReference = reference(reachable,
                p -> VersionCompatibility.key(p.meta().version(), p.meta().schemaVersion()));
        String configReference = reference(reachable, p -> p.meta().configHash());
        Map<String, ClockOffset> reachableClocks = new HashMap<>();
        for (PeerView p : reachable) {
            ClockOffset c = clocks.get(p.meta().id());
            if (c != null) {
                reachableClocks.put(p.meta().id(), c);
            }
        }
        Set<String> skewed = ClockSkewCheck.skewed(reachableClocks, maxClockSkewMillis);
        List<ClusterInfo> infos = new ArrayList<>(peers.size());
        for (PeerView peer : peers) {
            Set<StatusReason> reasons = EnumSet.noneOf(StatusReason.class);
            if (!peer.reachable()) {
                reasons.add(StatusReason.UNREACHABLE);
            }
            String versionKey = VersionCompatibility.key(peer.meta().version(), peer.meta().schemaVersion());
            if (versionReference != null && !versionReference.equals(versionKey)) {
                reasons.add(StatusReason.VERSION_MISMATCH);
            }
            if (configReference != null && !configReference.equals(peer.meta().configHash())) {
                reasons.add(StatusReason.CONFIG_HASH_MISMATCH);
            }
            if (skewed.contains(peer.meta().id())) {
                reasons.add(StatusReason.CLOCK_SKEW);
            }
            infos.add(new ClusterInfo(peer.meta().id(), peer.meta().version(), peer.meta().schemaVersion(),
                    peer.meta().configHash(), peer.ipAddress(), peer.meta().hostname(),
                    reasons.isEmpty() ? NodeStatus.GREEN : NodeStatus.RED, reasons, clocks.get(peer.meta().id())));
        }
        infos.sort(Comparator.comparing(ClusterInfo::id));
        return infos;
    }

    /** The most common value among {@code peers}; ties go to the value of the lowest id. */
    private static String reference(List<PeerView> peers, Function<PeerView, String> value) {
        Map<String, int[]> counts = new HashMap<>();
        Map<String, String> lowestId = new HashMap<>();
        for (PeerView peer : peers) {
            String v = value.apply(peer);
            counts.computeIfAbsent(v, k -> new int[1])[0]++;
            lowestId.merge(v, peer.meta().id(), (a, b) -> a.compareTo(b) <= 0 ? a : b);
        }
        String best = null;
        for (Map.Entry<String, int[]> e : counts.entrySet()) {
            if (best == null) {
                best = e.getKey();
                continue;
            }
            int c = Integer.compare(e.getValue()[0], counts.get(best)[0]);
            if (c > 0 || (c == 0 && lowestId.get(e.getKey()).compareTo(lowestId.get(best)) < 0)) {
                best = e.getKey();
            }
        }
        return best;
    }
}
