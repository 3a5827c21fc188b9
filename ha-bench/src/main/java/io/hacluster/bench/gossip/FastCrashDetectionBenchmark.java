package io.hacluster.bench.gossip;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * Fast crash detection of whole ClusterNodes (gossip plus the streaming messenger, each its own
 * JVM on 127.0.0.1, {@code lan} preset) against serf agents ({@code -profile lan}) in the same run.
 *
 * <p><b>Crash:</b> a fresh ring of N nodes; two seconds after every node saw every other join, the
 * last node gets SIGKILL; the figure is the time until the <em>last</em> survivor reports it dead.
 * ClusterNode and serf rings alternate repetition by repetition. For ClusterNode rings it also
 * counts the repetitions in which a survivor's dead report came with a fast-path death counted.
 *
 * <p><b>Stalls:</b> in a converged ring of 5 ClusterNodes, one node (never the seed) at a time is
 * frozen with SIGSTOP for the stall, resumed with SIGCONT, and watched for {@code --observe-s}.
 * Stalls shorter than the suspicion time must give no dead report at all; a stall longer than it
 * (8 s on LAN) must be declared dead by the ordinary path (no fast-path death counted), in the
 * ordinary time (reported from the SIGSTOP), and the node then rejoins by refuting.
 *
 * <pre>
 * mvn -B -q -pl ha-bench exec:exec -Dexec.args="-cp %classpath io.hacluster.bench.gossip.FastCrashDetectionBenchmark --reps 20 --stalls 20"
 * </pre>
 * Options: {@code --reps N} (default 20), {@code --sizes 3,5}, {@code --stalls N} per stall length
 * (default 20), {@code --stall-ms 1000,3000,8000}, {@code --observe-s 10}.
 */
public final class FastCrashDetectionBenchmark {
    private static final Duration DETECTION_WAIT = Duration.ofSeconds(120);
    private static final Duration REJOIN_WAIT = Duration.ofSeconds(90);
    private static final String PRESET = "lan";

    private FastCrashDetectionBenchmark() {
    }

    public static void main(String[] args) {
        int reps = intOption(args, "--reps", 20);
        int stalls = intOption(args, "--stalls", 20);
        int observeSeconds = intOption(args, "--observe-s", 10);
        List<Integer> sizes = list(stringOption(args, "--sizes", "3,5"));
        List<Integer> stallMillis = list(stringOption(args, "--stall-ms", "1000,3000,8000"));
        String classpath = System.getProperty("java.class.path");

        System.out.printf(Locale.ROOT, "fast crash detection, preset %s, %d repetitions, %d cores, java %s%n",
                PRESET, reps, Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        List<String> summary = new ArrayList<>();
        for (int size : sizes) {
            if (reps <= 0) {
                break;
            }
            List<Double> cluster = new ArrayList<>();
            List<Double> serf = new ArrayList<>();
            int fast = 0;
            for (int rep = 1; rep <= reps; rep++) {
                Crash c = crash(FailureDetectionNode.Kind.CLUSTER, size, classpath, rep);
                cluster.add(c.seconds());
                fast += c.fastPath() ? 1 : 0;
                serf.add(crash(FailureDetectionNode.Kind.SERF, size, classpath, rep).seconds());
                System.out.printf(Locale.ROOT, "  n=%d rep %d: cluster node %.2f s%s, serf %.2f s%n", size, rep,
                        c.seconds(), c.fastPath() ? " (fast path)" : "", serf.get(rep - 1));
            }
            String line = String.format(Locale.ROOT,
                    "kill -9 -> dead at every survivor, n=%d, %d runs: ClusterNode median %.2f s, p99 %.2f s "
                            + "(min %.2f, max %.2f; fast path in %d of %d) | serf median %.2f s, p99 %.2f s "
                            + "(min %.2f, max %.2f) | ours/serf medians %.2f",
                    size, reps, quantile(cluster, 0.5), quantile(cluster, 0.99), min(cluster), max(cluster), fast, reps,
                    quantile(serf, 0.5), quantile(serf, 0.99), min(serf), max(serf),
                    quantile(cluster, 0.5) / quantile(serf, 0.5));
            System.out.println(line);
            summary.add(line);
        }
        for (int ms : stallMillis) {
            if (stalls <= 0) {
                break;
            }
            String line = stalls(classpath, stalls, Duration.ofMillis(ms), Duration.ofSeconds(observeSeconds));
            System.out.println(line);
            summary.add(line);
        }
        System.out.println("=== summary ===");
        summary.forEach(System.out::println);
    }

    private record Crash(double seconds, boolean fastPath) {
    }

    /** Kills the last node of a fresh ring; seconds until every survivor reported it dead. */
    private static Crash crash(FailureDetectionNode.Kind kind, int size, String classpath, int rep) {
        String prefix = (kind == FailureDetectionNode.Kind.CLUSTER ? "c" : "s") + size + "r" + rep + "n";
        try (FailureDetectionRing ring = startRing(kind, size, classpath, prefix)) {
            List<FailureDetectionNode> nodes = ring.nodes();
            FailureDetectionNode victim = nodes.get(nodes.size() - 1);
            List<FailureDetectionNode> survivors = nodes.subList(0, nodes.size() - 1);
            FailureDetectionNode.sleep(Duration.ofSeconds(2)); // steady state: probes running, connections up
            long killedAt = System.nanoTime();
            victim.kill();
            long deadline = killedAt + DETECTION_WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                List<OptionalLong> reports = survivors.stream().map(s -> s.deadReportedAt(victim.name(), killedAt)).toList();
                if (reports.stream().allMatch(OptionalLong::isPresent)) {
                    long last = reports.stream().mapToLong(OptionalLong::getAsLong).max().orElseThrow();
                    boolean fast = survivors.stream().anyMatch(s -> s.deadReportedByFastPath(victim.name(), killedAt));
                    return new Crash((last - killedAt) / 1e9, fast);
                }
                FailureDetectionNode.sleep(Duration.ofMillis(5));
            }
            throw new IllegalStateException(kind + " ring of " + size + " did not detect the crash within "
                    + DETECTION_WAIT + ":\n" + survivors.stream().map(FailureDetectionNode::output)
                    .collect(Collectors.joining("\n---\n")));
        }
    }

    /**
     * Freezes one non-seed node at a time for {@code stall} in a ring of 5 ClusterNodes. Reports
     * dead reports about the frozen node (false deaths when the stall is shorter than the
     * suspicion time), how many of them came with a fast-path death, and for stalls that were
     * declared dead the time from SIGSTOP to the last survivor's report.
     */
    private static String stalls(String classpath, int stalls, Duration stall, Duration observe) {
        String prefix = "cstall" + stall.toMillis() + "n";
        try (FailureDetectionRing ring = startRing(FailureDetectionNode.Kind.CLUSTER, 5, classpath, prefix)) {
            List<FailureDetectionNode> nodes = ring.nodes();
            FailureDetectionNode.sleep(Duration.ofSeconds(2));
            long start = System.nanoTime();
            int declared = 0;
            int fastDeclared = 0;
            int undetected = 0;
            List<Double> detection = new ArrayList<>();
            for (int i = 0; i < stalls; i++) {
                FailureDetectionNode frozen = nodes.get(1 + i % (nodes.size() - 1));
                List<FailureDetectionNode> others = nodes.stream().filter(n -> n != frozen).toList();
                long stoppedAt = System.nanoTime();
                frozen.signal("STOP");
                FailureDetectionNode.sleep(stall);
                frozen.signal("CONT");
                FailureDetectionNode.sleep(observe);
                List<OptionalLong> reports = others.stream().map(o -> o.deadReportedAt(frozen.name(), stoppedAt)).toList();
                if (reports.stream().anyMatch(OptionalLong::isPresent)) {
                    declared++;
                    if (others.stream().anyMatch(o -> o.deadReportedByFastPath(frozen.name(), stoppedAt))) {
                        fastDeclared++;
                    }
                    if (reports.stream().allMatch(OptionalLong::isPresent)) {
                        long last = reports.stream().mapToLong(OptionalLong::getAsLong).max().orElseThrow();
                        detection.add((last - stoppedAt) / 1e9);
                    }
                    // it refutes on resume: wait until every other node lists it alive again
                    long until = System.nanoTime() + REJOIN_WAIT.toNanos();
                    while (System.nanoTime() < until
                            && !others.stream().allMatch(o -> o.aliveReportedAt(frozen.name(), stoppedAt).isPresent())) {
                        FailureDetectionNode.sleep(Duration.ofMillis(20));
                    }
                } else {
                    undetected++;
                }
                System.out.printf(Locale.ROOT, "  stall %d ms #%d of %s: %s%n", stall.toMillis(), i + 1, frozen.name(),
                        reports.stream().anyMatch(OptionalLong::isPresent) ? "declared dead" : "no dead report");
            }
            FailureDetectionNode.sleep(observe);  // a last look for a late report about any node
            long allDeadReports = nodes.stream().mapToLong(n -> n.deadReports(start).size()).sum();
            return String.format(Locale.ROOT,
                    "ClusterNode ring of 5, %d stalls of %d ms (SIGSTOP/SIGCONT), %d s observed after each: "
                            + "%d declared dead (%d with a fast-path death), %d not; dead reports about any node "
                            + "in the whole run %d; from SIGSTOP to dead at every other node: %s",
                    stalls, stall.toMillis(), observe.toSeconds(), declared, fastDeclared, undetected, allDeadReports,
                    detection.isEmpty() ? "-" : String.format(Locale.ROOT, "median %.2f s, p99 %.2f s (min %.2f, max %.2f)",
                            quantile(detection, 0.5), quantile(detection, 0.99), min(detection), max(detection)));
        }
    }

    /**
     * Starts a ring, trying again (with fresh ports and names) when one does not converge: on a
     * loaded machine a JVM's first join can miss its 10 s TCP timeout, and a ClusterNode retries
     * its static seeds only every discovery interval (60 s). A failed start is printed, not hidden.
     */
    private static FailureDetectionRing startRing(FailureDetectionNode.Kind kind, int size, String classpath,
                                                  String prefix) {
        for (int attempt = 1; ; attempt++) {
            try {
                return FailureDetectionRing.start(kind, size, PRESET, classpath, attempt == 1 ? prefix : prefix + "a" + attempt);
            } catch (IllegalStateException e) {
                if (attempt == 3) {
                    throw e;
                }
                System.out.printf(Locale.ROOT, "  (a %s ring of %d did not converge, starting it again: %s)%n",
                        kind.name().toLowerCase(Locale.ROOT), size, e.getMessage().lines().findFirst().orElse(""));
            }
        }
    }

    /** Nearest-rank quantile (with 20 values, p99 is the largest). */
    private static double quantile(List<Double> values, double q) {
        List<Double> sorted = values.stream().sorted().toList();
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    private static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    private static List<Integer> list(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(Integer::parseInt).toList();
    }

    private static int intOption(String[] args, String name, int fallback) {
        return Integer.parseInt(stringOption(args, name, Integer.toString(fallback)));
    }

    private static String stringOption(String[] args, String name, String fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }
}
