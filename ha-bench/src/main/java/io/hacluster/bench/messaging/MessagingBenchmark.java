package io.hacluster.bench.messaging;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * Reliable messaging between 3 nodes on loopback, 1 KiB payloads: ha-cluster's {@code Messenger}
 * against JGroups' {@code tcp.xml} stack in the same run. For each system: peak throughput
 * (closed loop, a window of outstanding broadcasts per node) with its send-to-ack latency, then
 * latency at half of that system's peak in an open loop.
 *
 * <p>A "broadcast" is one message from one node to the two others, complete when both ran their
 * handler (ha: {@code waitForAllToSend}; JGroups: {@code MessageDispatcher} GET_ALL), so the
 * delivery rate is twice the broadcast rate.
 *
 * <p>Run: {@code mvn -B -q -pl ha-bench exec:exec -Dexec.args="-cp %classpath
 * io.hacluster.bench.messaging.MessagingBenchmark"}. Knobs (system properties): {@code
 * bench.perNode} (default 40000), {@code bench.window} (default 256), {@code bench.pacedSeconds}
 * (default 8), {@code bench.rounds} (default 3), {@code bench.systems} (default "ha,jgroups";
 * "ha-tls" adds the Messenger over mutual TLS, and with "ha" prints the mTLS / plain ratios), {@code bench.ioThreads} (default 1) and
 * {@code bench.handlerThreads} (default 2) per ha node.
 */
public final class MessagingBenchmark {

    private MessagingBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int perNode = Integer.getInteger("bench.perNode", 40_000);
        int window = Integer.getInteger("bench.window", 256);
        int rounds = Integer.getInteger("bench.rounds", 3);
        double pacedSeconds = Double.parseDouble(System.getProperty("bench.pacedSeconds", "8"));
        String systems = System.getProperty("bench.systems", "ha,jgroups");
        byte[] payload = new byte[1024];
        new Random(1).nextBytes(payload);

        // alternate the systems round by round, so a burst of load from elsewhere on the machine
        // does not land on one system only
        List<PhaseResult> results = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            if (List.of(systems.split(",")).contains("ha")) {
                results.addAll(measure(HaMessagingCluster::new, payload, perNode, window, pacedSeconds));
            }
            if (List.of(systems.split(",")).contains("ha-tls")) {
                results.addAll(measure(() -> new HaMessagingCluster(true), payload, perNode, window, pacedSeconds));
            }
            if (systems.contains("jgroups")) {
                results.addAll(measure(JGroupsCluster::new, payload, perNode, window, pacedSeconds));
            }
        }

        System.out.printf("%nReliable broadcast, 3 nodes on 127.0.0.1, 1 KiB payload, %d broadcasts per node, "
                + "window %d per node, %d rounds, %d cores, Java %s%n", perNode, window, rounds,
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        System.out.println("| system                   | phase              | bcast/s    | deliv/s    | p50 us    "
                + "| p99 us    | p99.9 us  | failures |");
        System.out.println("|--------------------------|--------------------|------------|------------|-----------"
                + "|-----------|-----------|----------|");
        for (PhaseResult r : results) {
            System.out.println(r.row());
        }
        System.out.println();
        System.out.println("Medians over the rounds:");
        for (String system : results.stream().map(PhaseResult::system).distinct().toList()) {
            for (String phase : results.stream().map(PhaseResult::phase).distinct().toList()) {
                List<PhaseResult> rs = results.stream()
                        .filter(r -> r.system().equals(system) && r.phase().equals(phase)).toList();
                if (!rs.isEmpty()) {
                    System.out.printf("| %-24s | %-18s | %10.0f | %10.0f | %9.0f | %9.0f | %9.0f |%n", system, phase,
                            median(rs, PhaseResult::rate), median(rs, PhaseResult::rate) * 2,
                            median(rs, PhaseResult::p50Micros), median(rs, PhaseResult::p99Micros),
                            median(rs, PhaseResult::p999Micros));
                }
            }
        }
        printTlsRatios(results);
        System.exit(0); // JGroups leaves non-daemon timer threads behind
    }

    /** mTLS against plain, per round (the two ran back to back in each round) and as the median of those. */
    private static void printTlsRatios(List<PhaseResult> results) {
        String plain = "ha-cluster Messenger";
        String tls = "ha-cluster Messenger mTLS";
        for (String phase : results.stream().map(PhaseResult::phase).distinct().toList()) {
            List<PhaseResult> p = results.stream().filter(r -> r.system().equals(plain) && r.phase().equals(phase)).toList();
            List<PhaseResult> t = results.stream().filter(r -> r.system().equals(tls) && r.phase().equals(phase)).toList();
            int n = Math.min(p.size(), t.size());
            if (n == 0) {
                continue;
            }
            double[] rate = new double[n];
            double[] p99 = new double[n];
            for (int i = 0; i < n; i++) {
                rate[i] = t.get(i).rate() / p.get(i).rate();
                p99[i] = t.get(i).p99Micros() / p.get(i).p99Micros();
            }
            java.util.Arrays.sort(rate);
            java.util.Arrays.sort(p99);
            System.out.printf("mTLS / plain, %-18s: bcast/s ratio median %.2f (rounds %s), p99 ratio median %.2f "
                    + "(rounds %s)%n", phase, rate[n / 2], java.util.Arrays.toString(rate), p99[n / 2],
                    java.util.Arrays.toString(p99));
        }
    }

    private static double median(List<PhaseResult> rs, java.util.function.ToDoubleFunction<PhaseResult> f) {
        double[] v = rs.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static List<PhaseResult> measure(Callable<BroadcastCluster> factory, byte[] payload, int perNode,
                                             int window, double pacedSeconds) throws Exception {
        List<PhaseResult> out = new ArrayList<>();
        try (BroadcastCluster c = factory.call()) {
            LoadRunner run = new LoadRunner(c, payload);
            run.peak("warm-up", perNode / 2, window);
            PhaseResult peak = run.peak("peak", perNode, window);
            System.out.println(peak.row());
            out.add(peak);
            PhaseResult half = run.paced("paced @ 50% peak", peak.rate() / 2, pacedSeconds, 20_000);
            System.out.println(half.row());
            out.add(half);
            PhaseResult low = run.paced("paced @ 1000/s", 1000, Math.min(pacedSeconds, 5), 20_000);
            System.out.println(low.row());
            out.add(low);
        }
        return out;
    }
}
