package io.hacluster.bench.gossip;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A ring of {@link FailureDetectionNode} processes of one kind, all on 127.0.0.1: a seed first,
 * then the others joining it. {@link #close()} kills every process.
 */
final class FailureDetectionRing implements AutoCloseable {
    private static final Duration START_WAIT = Duration.ofSeconds(60);

    private final List<FailureDetectionNode> nodes = new ArrayList<>();

    private FailureDetectionRing() {
    }

    /**
     * Starts {@code size} nodes and returns once every node has reported every other one as
     * joined.
     *
     * @param preset memberlist preset (lan, wan, local) for both kinds: our agent's
     *     {@code --preset} and serf's {@code -profile} select the same memberlist numbers
     */
    static FailureDetectionRing start(FailureDetectionNode.Kind kind, int size, String preset, String classpath,
                                      String prefix) {
        FailureDetectionRing ring = new FailureDetectionRing();
        try {
            FailureDetectionNode seed = launch(kind, prefix + "0", preset, classpath, null);
            ring.nodes.add(seed);
            ring.awaitJoins(List.of(seed), List.of(seed.name()));
            for (int i = 1; i < size; i++) {
                ring.nodes.add(launch(kind, prefix + i, preset, classpath, seed.port()));
            }
            ring.awaitJoins(ring.nodes, ring.nodes.stream().map(FailureDetectionNode::name).toList());
            return ring;
        } catch (RuntimeException e) {
            ring.close();
            throw e;
        }
    }

    private static FailureDetectionNode launch(FailureDetectionNode.Kind kind, String name, String preset,
                                               String classpath, Integer joinPort) {
        return switch (kind) {
            case JAVA -> FailureDetectionNode.java(name, preset, classpath, joinPort);
            case SERF -> FailureDetectionNode.serf(name, preset, joinPort);
            case CLUSTER -> FailureDetectionNode.cluster(clusterId(name), preset, classpath, joinPort, true);
        };
    }

    /** A ClusterNode id (26 characters) made from a ring member's name: the name, padded with zeros. */
    static String clusterId(String name) {
        StringBuilder b = new StringBuilder(name.toLowerCase(java.util.Locale.ROOT));
        while (b.length() < 26) {
            b.append('0');
        }
        return b.substring(0, 26);
    }

    private void awaitJoins(List<FailureDetectionNode> observers, List<String> members) {
        long deadline = System.nanoTime() + START_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            boolean all = observers.stream().allMatch(o -> members.stream().allMatch(o::sawJoin));
            if (all) {
                return;
            }
            for (FailureDetectionNode o : observers) {
                if (!o.isAlive()) {
                    throw new IllegalStateException(o.name() + " exited during start:\n" + o.output());
                }
            }
            FailureDetectionNode.sleep(Duration.ofMillis(20));
        }
        StringBuilder why = new StringBuilder("ring did not converge within " + START_WAIT);
        observers.forEach(o -> why.append("\n--- ").append(o.name()).append(":\n").append(o.output()));
        throw new IllegalStateException(why.toString());
    }

    List<FailureDetectionNode> nodes() {
        return nodes;
    }

    @Override
    public void close() {
        nodes.forEach(FailureDetectionNode::close);
    }
}
