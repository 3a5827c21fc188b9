package io.hacluster;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The outcome of an operation asked of every node ({@link ClusterNode#reloadConfigEverywhere},
 * {@link ClusterNode#recycleDatabaseConnectionsEverywhere}): one {@link NodeAnswer} per node that
 * was a live member when it was asked, the asking node included, by node id.
 *
 * @param operation the operation's name
 * @param nodes node id to its answer, sorted
 * @param <T> the per-node result type
 */
public record ClusterWide<T>(String operation, Map<String, NodeAnswer<T>> nodes) {

    public ClusterWide {
        Objects.requireNonNull(operation, "operation");
        nodes = Collections.unmodifiableMap(new TreeMap<>(nodes));
    }

    /** Whether every node asked answered (its result may still report a failure there). */
    public boolean allAnswered() {
        return nodes.values().stream().allMatch(NodeAnswer::answered);
    }

    /** The results of the nodes that answered, by node id order. */
    public List<T> results() {
        return nodes.values().stream().filter(NodeAnswer::answered).map(NodeAnswer::result).toList();
    }

    /** Node id to why it did not answer, for the nodes that did not. */
    public Map<String, String> failures() {
        Map<String, String> out = new TreeMap<>();
        nodes.forEach((id, a) -> {
            if (!a.answered()) {
                out.put(id, a.failure());
            }
        });
        return out;
    }
}
