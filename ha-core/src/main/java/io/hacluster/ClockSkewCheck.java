package io.hacluster;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which nodes' clocks are off, decided the same way on every node although each node measures
 * offsets from its own clock.
 *
 * <p>Offsets are relative, so "off" means off from the cluster: the reference is the node whose
 * clock agrees (within the bound) with the most nodes' clocks, ties going to the lowest id, as
 * {@link ClusterStatusEvaluator} picks its references. A node is skewed when its offset from the
 * reference exceeds the bound by more than the two measurements' uncertainty (half of each
 * round-trip delay), so a slow network never turns a node RED by itself. With three nodes where
 * one clock is 2 s ahead, that node is skewed on all three, its own view included: from there
 * the other two are both 2 s behind, and they agree with each other. With two nodes that
 * disagree, the one with the higher id is skewed on both. Nodes without an estimate take no part.
 */
final class ClockSkewCheck {

    private ClockSkewCheck() {
    }

    /**
     * @param offsets reachable nodes' offsets from the local clock (the local node at 0), by id
     * @param boundMillis {@code ClusterSettings.MaxClockSkewMilliseconds}
     * @return the ids of the skewed nodes
     */
    static Set<String> skewed(Map<String, ClockOffset> offsets, long boundMillis) {
        List<String> ids = offsets.keySet().stream().sorted().toList();
        String reference = null;
        int referenceSupport = -1;
        for (String candidate : ids) {
            int support = 0;
            for (String other : ids) {
                if (!apart(offsets.get(candidate), offsets.get(other), boundMillis)) {
                    support++;
                }
            }
            if (support > referenceSupport) {  // ids are sorted: a tie keeps the lower id
                reference = candidate;
                referenceSupport = support;
            }
        }
        Set<String> skewed = new HashSet<>();
        for (String id : ids) {
            if (apart(offsets.get(id), offsets.get(reference), boundMillis)) {
                skewed.add(id);
            }
        }
        return skewed;
    }

    /** Whether two clocks are surely further apart than the bound, given the measurements' errors. */
    static boolean apart(ClockOffset a, ClockOffset b, long boundMillis) {
        double distance = Math.abs(a.offsetMillis() - b.offsetMillis());
        return distance - a.uncertaintyMillis() - b.uncertaintyMillis() > boundMillis;
    }
}
