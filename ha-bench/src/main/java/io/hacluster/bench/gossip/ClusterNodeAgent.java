package io.hacluster.bench.gossip;

import io.hacluster.ClusterMember;
import io.hacluster.ClusterNode;
import io.hacluster.config.ClusterSettings;
import io.hacluster.gossip.GossipStats;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A whole {@link ClusterNode} (gossip and the streaming messenger) as a benchmark process, so that
 * the benchmark kills and stops the product, not just its gossip layer. It prints one JSON line per
 * membership change it sees, in {@code GossipAgent}'s shape: {@code {"event":"join","name":...}}
 * when a member is first alive, {@code {"event":"dead","name":...,"fastPathDeaths":N,
 * "fastPathAborts":M}} when it turns dead (with this node's fast-path counters at that moment).
 * Membership is read by polling {@link ClusterNode#members()} every 2 ms, which adds up to 2 ms to
 * a reported time.
 *
 * <p>Arguments: {@code --id <26 chars> --gossip-port P --streaming-port S [--join host:port]
 * [--preset lan] [--fast true|false]}.
 */
public final class ClusterNodeAgent {

    private static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), true,
            StandardCharsets.UTF_8);

    private ClusterNodeAgent() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i], args[i + 1]);
        }
        String id = opts.get("--id");
        Path idFile = Files.createTempFile("ha-bench-node-id", ".txt");
        idFile.toFile().deleteOnExit();
        Files.writeString(idFile, id + "\n", StandardCharsets.US_ASCII);
        String join = opts.getOrDefault("--join", "");
        ClusterSettings settings = ClusterSettings.builder()
                .enable(true)
                .clusterName("bench")
                .overrideHostname("127.0.0.1")
                .bindAddress("127.0.0.1")
                .gossipPort(Integer.parseInt(opts.get("--gossip-port")))
                .streamingPort(Integer.parseInt(opts.get("--streaming-port")))
                .gossipPreset(opts.getOrDefault("--preset", "lan"))
                .enableFastCrashDetection(Boolean.parseBoolean(opts.getOrDefault("--fast", "true")))
                .nodeIdFile(idFile.toString())
                .seeds(join.isEmpty() ? List.of() : List.of(join))
                .build();
        ClusterNode node = ClusterNode.builder().clusterSettings(settings).build();
        node.start();
        Map<String, String> last = new HashMap<>();
        while (true) {
            for (ClusterMember m : node.members()) {
                String state = m.state().name();
                String before = last.put(m.id(), state);
                if (state.equals(before)) {
                    continue;
                }
                if (state.equals("ALIVE") && before == null) {
                    OUT.println("{\"event\":\"join\",\"name\":\"" + m.id() + "\"}");
                } else if (state.equals("DEAD")) {
                    GossipStats g = node.gossipStats();
                    OUT.println("{\"event\":\"dead\",\"name\":\"" + m.id() + "\",\"fastPathDeaths\":"
                            + g.fastPathDeaths() + ",\"fastPathAborts\":" + g.fastPathAborts() + "}");
                } else if (state.equals("ALIVE")) {
                    OUT.println("{\"event\":\"alive\",\"name\":\"" + m.id() + "\"}");
                }
            }
            Thread.sleep(2);
        }
    }
}
