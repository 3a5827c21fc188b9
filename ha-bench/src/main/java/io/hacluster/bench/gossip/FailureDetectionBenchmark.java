package io.hacluster.bench.gossip;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * Failure detection, ours against serf's, in one run on one machine.
 *
 * <p><b>Crash:</b> a ring of N nodes (3 and 5) with memberlist's LAN numbers, every node its own
 * OS process on 127.0.0.1: our {@code GossipAgent} JVMs, or Debian serf agents with
 * {@code -profile lan}. Once every node has seen every other join, the last node gets SIGKILL;
 * the figure is the time until the <em>last</em> survivor reports it dead (our agent's
 * {@code "dead"} event line, serf's {@code EventMemberFailed} log line, both flushed at once).
 * Java and serf rings alternate run by run so that machine noise hits both alike.
 *
 * <p><b>Stall:</b> in a converged 5-node LAN ring, one node's whole process is frozen with
 * SIGSTOP for a second, then resumed with SIGCONT, a few times; any dead report by any node
 * during the observation window after each stall is a false positive.
 *
 * <pre>
 * mvn -B -q -pl ha-bench exec:exec -Dexec.args="-cp %classpath io.hacluster.bench.gossip.FailureDetectionBenchmark"
 * </pre>
 * Options (after the class name): {@code --reps N} (default 5), {@code --sizes 3,5},
 * {@code --stalls N} (default 3), {@code --stall-ms 1000}, {@code --observe-s 25}.
 */
public final class FailureDetectionBenchmark {
    private static final Duration DETECTION_WAIT = Duration.ofSeconds(120);
    private static final String PRESET = "lan";

    private FailureDetectionBenchmark() {
    }

    public static void main(String[] args) {
        int reps = intOption(args, "--reps", 5);
        int stalls = intOption(args, "--stalls", 3);
        int stallMillis = intOption(args, "--stall-ms", 1000);
        int observeSeconds = intOption(args, "--observe-s", 25);
        List<Integer> sizes = Arrays.stream(stringOption(args, "--sizes", "3,5").split(","))
                .map(String::trim).map(Integer::parseInt).toList();
        String classpath = agentClasspath();

        System.out.printf(Locale.ROOT, "failure detection, preset %s, %d repetitions, %d cores, java %s%n",
                PRESET, reps, Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        List<String> summary = new ArrayList<>();
        for (int size : sizes) {
            List<Double> java = new ArrayList<>();
            List<Double> serf = new ArrayList<>();
            for (int rep = 1; rep <= reps; rep++) {
                java.add(crashSeconds(FailureDetectionNode.Kind.JAVA, size, classpath, rep));
                serf.add(crashSeconds(FailureDetectionNode.Kind.SERF, size, classpath, rep));
                System.out.printf(Locale.ROOT, "  n=%d rep %d: java %.2f s, serf %.2f s%n",
                        size, rep, java.get(rep - 1), serf.get(rep - 1));
            }
            String line = String.format(Locale.ROOT,
                    "crash -> dead at every survivor, n=%d: java median %.2f s (min %.2f, max %.2f) | "
                            + "serf median %.2f s (min %.2f, max %.2f) | java/serf %.2f",
                    size, median(java), min(java), max(java), median(serf), min(serf), max(serf),
                    median(java) / median(serf));
            System.out.println(line);
            summary.add(line);
        }
        for (FailureDetectionNode.Kind kind : FailureDetectionNode.Kind.values()) {
            String line = stall(kind, classpath, stalls, Duration.ofMillis(stallMillis), Duration.ofSeconds(observeSeconds));
            System.out.println(line);
            summary.add(line);
        }
        System.out.println("=== summary ===");
        summary.forEach(System.out::println);
    }

    /** Kills the last node of a fresh ring; seconds until every survivor reported it dead. */
    private static double crashSeconds(FailureDetectionNode.Kind kind, int size, String classpath, int rep) {
        String prefix = (kind == FailureDetectionNode.Kind.JAVA ? "j" : "s") + size + "r" + rep + "n";
        try (FailureDetectionRing ring = FailureDetectionRing.start(kind, size, PRESET, classpath, prefix)) {
            List<FailureDetectionNode> nodes = ring.nodes();
            FailureDetectionNode victim = nodes.get(nodes.size() - 1);
            List<FailureDetectionNode> survivors = nodes.subList(0, nodes.size() - 1);
            FailureDetectionNode.sleep(Duration.ofSeconds(2)); // a couple of probe rounds in steady state
            long killedAt = System.nanoTime();
            victim.kill();
            long deadline = killedAt + DETECTION_WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                List<OptionalLong> reports = survivors.stream().map(s -> s.deadReportedAt(victim.name(), killedAt)).toList();
                if (reports.stream().allMatch(OptionalLong::isPresent)) {
                    long last = reports.stream().mapToLong(OptionalLong::getAsLong).max().orElseThrow();
                    return (last - killedAt) / 1e9;
                }
                FailureDetectionNode.sleep(Duration.ofMillis(10));
            }
            throw new IllegalStateException(kind + " ring of " + size + " did not detect the crash within "
                    + DETECTION_WAIT + ":\n" + survivors.stream().map(FailureDetectionNode::output)
                    .collect(Collectors.joining("\n---\n")));
        }
    }

    /** Freezes one node at a time; counts dead reports anywhere in the ring. */
    private static String stall(FailureDetectionNode.Kind kind, String classpath, int stalls, Duration stall,
                                Duration observe) {
        String prefix = (kind == FailureDetectionNode.Kind.JAVA ? "j" : "s") + "stall";
        try (FailureDetectionRing ring = FailureDetectionRing.start(kind, 5, PRESET, classpath, prefix)) {
            List<FailureDetectionNode> nodes = ring.nodes();
            FailureDetectionNode.sleep(Duration.ofSeconds(2));
            long start = System.nanoTime();
            for (int i = 0; i < stalls; i++) {
                FailureDetectionNode frozen = nodes.get(1 + i % (nodes.size() - 1));
                frozen.signal("STOP");
                FailureDetectionNode.sleep(stall);
                frozen.signal("CONT");
                FailureDetectionNode.sleep(observe);
            }
            List<String> falsePositives = new ArrayList<>();
            long refutations = 0;
            for (FailureDetectionNode n : nodes) {
                n.deadReports(start).forEach(l -> falsePositives.add(n.name() + ": " + l.text()));
                refutations += n.refutationsLogged(start);
            }
            // Refutations show the stalls were long enough to get the frozen node suspected.
            return String.format(Locale.ROOT,
                    "%s ring of 5, %d stalls of %d ms (SIGSTOP/SIGCONT), %d s observed after each: "
                            + "%d false positives, %d suspicions refuted%s",
                    kind.name().toLowerCase(Locale.ROOT), stalls, stall.toMillis(), observe.toSeconds(),
                    falsePositives.size(), refutations, falsePositives.isEmpty() ? "" : " " + falsePositives);
        }
    }

    /** The benchmark's own class path: ha-gossip, its dependencies and logback (WARN, stderr). */
    private static String agentClasspath() {
        return System.getProperty("java.class.path");
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    private static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
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
