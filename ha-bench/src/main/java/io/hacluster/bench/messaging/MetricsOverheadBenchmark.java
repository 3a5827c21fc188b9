package io.hacluster.bench.messaging;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * What the metrics cost: reliable-broadcast throughput of 3 {@code ClusterNode}s on loopback
 * with {@code ClusterNodeMetrics} bound (timers on every acknowledgement and handler run, a
 * Prometheus scrape of every node each second) against the same cluster without, in the same
 * run. The two alternate round by round (which one goes first alternates too), so load from
 * elsewhere on the machine does not land on one side only; the figure is the ratio of the
 * medians of the closed-loop peak (target: at least 0.97). On a machine shared with other work
 * throughput swings with their load, so each phase also reports this process's CPU time per
 * broadcast (all threads: senders, I/O, handlers, gossip, the scraper), which other processes
 * disturb far less; its ratio is the cost of the metrics in CPU.
 *
 * <p>Run: {@code mvn -B -q -pl ha-bench exec:exec -Dexec.args="-cp %classpath
 * io.hacluster.bench.messaging.MetricsOverheadBenchmark"}. Knobs (system properties):
 * {@code bench.perNode} (default 20000 broadcasts per node and phase), {@code bench.window}
 * (default 256), {@code bench.rounds} (default 4), {@code bench.scrapeMillis} (default 1000).
 */
public final class MetricsOverheadBenchmark {

    private MetricsOverheadBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int perNode = Integer.getInteger("bench.perNode", 20_000);
        int window = Integer.getInteger("bench.window", 256);
        int rounds = Integer.getInteger("bench.rounds", 4);
        Duration scrape = Duration.ofMillis(Integer.getInteger("bench.scrapeMillis", 1000));
        byte[] payload = new byte[1024];
        new Random(1).nextBytes(payload);

        // one discarded round of each first: the JVM's first cluster runs before the JIT has compiled the path
        measure(false, scrape, payload, perNode / 2, window, new double[1]);
        measure(true, scrape, payload, perNode / 2, window, new double[1]);
        List<PhaseResult> without = new ArrayList<>();
        List<PhaseResult> with = new ArrayList<>();
        List<Double> pairRatios = new ArrayList<>();
        List<Double> cpuWithout = new ArrayList<>();
        List<Double> cpuWith = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            boolean metricsFirst = round % 2 == 0;
            PhaseResult on = null;
            PhaseResult off = null;
            for (boolean metrics : metricsFirst ? new boolean[] {true, false} : new boolean[] {false, true}) {
                double[] cpu = new double[1];
                PhaseResult r = measure(metrics, scrape, payload, perNode, window, cpu);
                double cpuMicros = cpu[0];
                System.out.printf("%s cpu %.1f us/bcast%n", r.row(), cpuMicros);
                (metrics ? cpuWith : cpuWithout).add(cpuMicros);
                if (metrics) {
                    on = r;
                    with.add(r);
                } else {
                    off = r;
                    without.add(r);
                }
            }
            pairRatios.add(on.rate() / off.rate());
        }
        double base = median(without);
        double measured = median(with);
        double[] ratios = pairRatios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double pairMedian = ratios.length % 2 == 1 ? ratios[ratios.length / 2]
                : (ratios[ratios.length / 2 - 1] + ratios[ratios.length / 2]) / 2;
        System.out.printf("%nReliable broadcast, 3 ClusterNodes on 127.0.0.1, 1 KiB payload, %d broadcasts per node, "
                + "window %d per node, %d rounds, scrape every %d ms, %d cores, Java %s%n", perNode, window, rounds,
                scrape.toMillis(), Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        System.out.printf("| without metrics, median bcast/s | with metrics, median bcast/s | ratio of medians "
                + "| median of per-round ratios | per-round ratios |%n");
        System.out.printf("|---|---|---|---|---|%n");
        System.out.printf("| %.0f | %.0f | %.3f | %.3f | %s |%n", base, measured, measured / base, pairMedian,
                pairRatios.stream().map(r -> String.format("%.3f", r)).toList());
        double cpuBase = medianOf(cpuWithout);
        double cpuMeasured = medianOf(cpuWith);
        System.out.printf("%n| CPU us per broadcast, without (median) | with (median) | without / with |%n|---|---|---|%n");
        System.out.printf("| %.1f | %.1f | %.3f |%n", cpuBase, cpuMeasured, cpuBase / cpuMeasured);
        System.exit(0);
    }

    /** The peak phase of a fresh cluster; {@code cpuMicrosPerBroadcast[0]} gets this process's CPU time per broadcast in it. */
    private static PhaseResult measure(boolean metrics, Duration scrape, byte[] payload, int perNode, int window,
                                       double[] cpuMicrosPerBroadcast) throws Exception {
        try (NodeMessagingCluster c = new NodeMessagingCluster(metrics, scrape)) {
            LoadRunner run = new LoadRunner(c, payload);
            run.peak("warm-up", perNode / 2, window);
            long cpu0 = processCpuNanos();
            PhaseResult peak = run.peak("peak", perNode, window);
            cpuMicrosPerBroadcast[0] = (processCpuNanos() - cpu0) / 1e3 / Math.max(1, peak.broadcasts());
            if (metrics && c.scrapedChars() == 0 && peak.seconds() > 2 * scrape.toMillis() / 1000.0) {
                throw new IllegalStateException("the scraper never ran");
            }
            return peak;
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static double medianOf(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double median(List<PhaseResult> rs) {
        double[] v = rs.stream().mapToDouble(PhaseResult::rate).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
