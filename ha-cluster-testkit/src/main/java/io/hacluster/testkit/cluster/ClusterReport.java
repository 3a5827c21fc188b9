package io.hacluster.testkit.cluster;

import io.hacluster.ClusterMember;
import io.hacluster.ClusterNode;
import io.hacluster.election.LeaderInfo;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What every node of a {@link TestCluster} sees, as text for an await that failed: per node its
 * index, id, fault status, each member it knows with state and incarnation, and its leader.
 * Member ids are shown as {@code node-<index>} where the cluster knows them, so a reader does not
 * have to match 26-character ids by eye.
 */
final class ClusterReport {

    private ClusterReport() {
    }

    static String of(List<TestCluster.Slot> slots) {
        Map<String, String> names = new java.util.HashMap<>();
        for (TestCluster.Slot s : slots) {
            names.put(s.id, "node-" + s.index);
        }
        StringBuilder out = new StringBuilder();
        for (TestCluster.Slot s : slots) {
            out.append("  node-").append(s.index).append(" (").append(s.id).append(") ").append(s.status()).append(": ");
            ClusterNode node = s.node;
            if (s.crashed || node == null) {
                out.append("not running\n");
                continue;
            }
            try {
                StringBuilder seen = new StringBuilder();
                for (ClusterMember m : node.members()) {
                    if (seen.length() > 0) {
                        seen.append(", ");
                    }
                    seen.append(names.getOrDefault(m.id(), m.id())).append(' ').append(m.state())
                            .append(" inc ").append(m.incarnation());
                }
                Optional<LeaderInfo> leader = node.leader();
                out.append("sees [").append(seen).append("], leader ")
                        .append(leader.map(l -> names.getOrDefault(l.id(), l.id())).orElse("none")).append('\n');
            } catch (RuntimeException e) {
                out.append("cannot tell: ").append(e.getMessage()).append('\n');
            }
        }
        return out.toString();
    }
}
