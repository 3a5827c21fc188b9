package io.hacluster.bench.election;

import io.hacluster.config.SqlSettings;
import io.hacluster.election.LeaseSettings;
import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Leader failover and planned handover, with the lease in a real PostgreSQL primary against the
 * bully rule alone (the same cluster without a database), in one run on one machine.
 *
 * <p><b>Crash.</b> A cluster of N in-JVM ClusterNodes (default 3) on 127.0.0.1 agrees on rank 1;
 * after a random pause of 1 to 3 s (so the crash falls anywhere in the probe and renewal cycles)
 * rank 1 is halted as a crash ({@code ClusterNode.haltForTests()}: no leave, no release, its
 * sockets closed). Measured from the halt: <em>detection</em>, until every survivor lists it
 * DEAD; <em>failover</em>, until every survivor shows rank 2 as leader with one epoch and token,
 * rank 2 says it leads, and, with the lease, the lease row in the database has rank 2 as holder.
 * Then rank 1 is restarted with the same id and ports and takes over again (not measured).
 *
 * <p><b>Handover.</b> The same cluster: rank 1 is closed gracefully ({@code close()}: release,
 * RESIGN, leave); measured from the start of {@code close()} until the same agreement on rank 2.
 * Then rank 1 is restarted as before.
 *
 * <p>Each preset runs the bully-only cluster and then the lease cluster, {@code --runs} crashes
 * and handovers each. Figures: median and p99 (nearest rank: with 20 runs the p99 is the
 * maximum), the lease figures also as a multiple of the lease duration and against the
 * bully-only figure of the same preset in this run. The lease's remaining time at the crash is
 * read from the database right before it.
 *
 * <pre>
 * mvn -B -q -pl ha-bench -am install -DskipTests
 * mvn -B -q -pl ha-bench exec:exec -Dexec.args="-cp %classpath io.hacluster.bench.election.FailoverBenchmark"
 * </pre>
 * Options (after the class name): {@code --runs 20}, {@code --presets local,lan} (gossip presets:
 * {@code local}, {@code lan}, {@code wan}), {@code --nodes 3}, {@code --lease-ms 15000},
 * {@code --renew-ms 10000}, {@code --retry-ms 2000} (the library's defaults), {@code --seed 1},
 * {@code --modes bully,lease} (one of them alone prints only the per-run lines). Each run's line
 * also gives the wall-clock time of the crash and of the close and when agreement and the lease
 * came, for matching with the library's log.
 */
public final class FailoverBenchmark {

    private static final Duration MEASURE_WAIT = Duration.ofSeconds(120);
    private static final Duration SETTLE = Duration.ofSeconds(60);

    private FailoverBenchmark() {
    }

    /** One configuration's samples, in milliseconds. */
    private record Samples(List<Double> detection, List<Double> failover, List<Double> remaining,
                           List<Double> handover, List<String> details) {
        Samples() {
            this(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        }
    }

    public static void main(String[] args) throws Exception {
        int runs = intOption(args, "--runs", 20);
        int nodes = intOption(args, "--nodes", 3);
        List<String> presets = Arrays.stream(stringOption(args, "--presets", "local,lan").split(","))
                .map(String::trim).toList();
        LeaseSettings lease = new LeaseSettings(Duration.ofMillis(intOption(args, "--lease-ms", 15_000)),
                Duration.ofMillis(intOption(args, "--renew-ms", 10_000)),
                Duration.ofMillis(intOption(args, "--retry-ms", 2_000)));
        Random random = new Random(intOption(args, "--seed", 1));
        List<String> modes = Arrays.stream(stringOption(args, "--modes", "bully,lease").split(","))
                .map(String::trim).toList();
        Path dir = Files.createTempDirectory("failover-bench");

        System.out.printf(Locale.ROOT, "failover, %d nodes in one JVM, %d runs per figure, presets %s, lease %d / %d / %d ms,"
                        + " %d cores, java %s%n", nodes, runs, presets, lease.leaseDuration().toMillis(),
                lease.renewDeadline().toMillis(), lease.retryPeriod().toMillis(),
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        List<String> summary = new ArrayList<>();
        try (PostgresTopology pg = PostgresTopology.start(0)) {
            PostgresServer primary = pg.primary();
            SqlSettings sql = SqlSettings.builder().dataSource(primary.dsn()).maxOpenConns(4).maxIdleConns(2).build();
            for (String preset : presets) {
                Samples bully = !modes.contains("bully") ? null
                        : measure(new FailoverCluster(dir, nodes, preset, null, lease, null, null, null), runs, random);
                Samples leased = !modes.contains("lease") ? null
                        : measure(new FailoverCluster(dir, nodes, preset, sql, lease, primary.jdbcUrl(),
                                primary.user(), primary.password()), runs, random);
                if (bully != null && leased != null) {
                    summary.addAll(report(preset, nodes, runs, lease, bully, leased));
                }
            }
        }
        System.out.println("=== summary ===");
        summary.forEach(System.out::println);
    }

    private static Samples measure(FailoverCluster c, int runs, Random random) throws Exception {
        String what = (c.withLease() ? "lease" : "bully only");
        Samples s = new Samples();
        try (c) {
            c.startAll();
            c.awaitAgreement(1, SETTLE);
            for (int run = 1; run <= runs; run++) {
                Thread.sleep(1000 + random.nextInt(2000));
                crashRun(c, s);
                c.start(1);
                c.awaitAgreement(1, SETTLE);
                Thread.sleep(1000 + random.nextInt(2000));
                handoverRun(c, s);
                c.start(1);
                c.awaitAgreement(1, SETTLE);
                int i = run - 1;
                System.out.printf(Locale.ROOT, "  %s %s run %d: detection %.0f ms, failover %.0f ms%s, handover %.0f ms (%s)%n",
                        c.cluster, what, run, s.detection().get(i), s.failover().get(i),
                        c.withLease() ? String.format(Locale.ROOT, " (lease remaining at the crash %.0f ms)",
                                s.remaining().get(i)) : "", s.handover().get(i), s.details().get(i));
            }
        }
        return s;
    }

    private static void crashRun(FailoverCluster c, Samples s) throws Exception {
        long[] remaining = new long[1];
        if (c.withLease()) {
            String holder = c.row(remaining);
            if (!FailoverCluster.idOf(1).equals(holder)) {
                throw new IllegalStateException("rank 1 does not hold the lease before the crash: " + holder);
            }
        }
        long t0 = System.nanoTime();
        c.crash(1);
        List<io.hacluster.ClusterNode> survivors = c.others(1);
        long detected = -1;
        long agreed = -1;
        long held = c.withLease() ? -1 : 0;
        long deadline = t0 + MEASURE_WAIT.toNanos();
        while ((detected < 0 || agreed < 0 || held < 0) && System.nanoTime() < deadline) {
            long now = System.nanoTime();
            if (detected < 0 && FailoverCluster.allSeeGone(survivors, 1)) {
                detected = now;
            }
            if (agreed < 0 && FailoverCluster.agree(survivors, 2)) {
                agreed = now;
            }
            if (held < 0 && FailoverCluster.idOf(2).equals(c.holder())) {
                held = System.nanoTime();
            }
            Thread.sleep(2);
        }
        c.reap(1);
        if (detected < 0 || agreed < 0 || held < 0) {
            throw new IllegalStateException("crash of rank 1 in " + c.cluster + " not resolved within " + MEASURE_WAIT
                    + ": detected " + (detected >= 0) + ", agreed " + (agreed >= 0) + ", lease taken " + (held >= 0));
        }
        s.detection().add((detected - t0) / 1e6);
        s.failover().add((Math.max(agreed, held) - t0) / 1e6);
        s.remaining().add((double) remaining[0]);
        s.details().add(String.format(Locale.ROOT, "crash at %s: agreed %.0f ms, lease held %.0f ms",
                java.time.LocalTime.now().minusNanos(System.nanoTime() - t0), (agreed - t0) / 1e6,
                c.withLease() ? (held - t0) / 1e6 : 0.0));
    }

    private static void handoverRun(FailoverCluster c, Samples s) throws Exception {
        List<io.hacluster.ClusterNode> survivors = c.others(1);
        Thread closer = new Thread(() -> c.closeNode(1), "bench-close-rank-1");
        long t0 = System.nanoTime();
        closer.start();
        long agreed = -1;
        long held = c.withLease() ? -1 : 0;
        long deadline = t0 + MEASURE_WAIT.toNanos();
        while ((agreed < 0 || held < 0) && System.nanoTime() < deadline) {
            long now = System.nanoTime();
            if (agreed < 0 && FailoverCluster.agree(survivors, 2)) {
                agreed = now;
            }
            if (held < 0 && FailoverCluster.idOf(2).equals(c.holder())) {
                held = System.nanoTime();
            }
            Thread.sleep(2);
        }
        closer.join(MEASURE_WAIT.toMillis());
        c.forget(1);
        if (agreed < 0 || held < 0) {
            throw new IllegalStateException("close of rank 1 in " + c.cluster + " not handed over within " + MEASURE_WAIT);
        }
        s.handover().add((Math.max(agreed, held) - t0) / 1e6);
        int i = s.details().size() - 1;
        s.details().set(i, s.details().get(i) + String.format(Locale.ROOT, "; close at %s: agreed %.0f ms, lease held %.0f ms",
                java.time.LocalTime.now().minusNanos(System.nanoTime() - t0), (agreed - t0) / 1e6,
                c.withLease() ? (held - t0) / 1e6 : 0.0));
    }

    private static List<String> report(String preset, int nodes, int runs, LeaseSettings lease, Samples bully,
                                       Samples leased) {
        double leaseMs = lease.leaseDuration().toMillis();
        List<String> out = new ArrayList<>();
        out.add(String.format(Locale.ROOT, "preset %s, %d nodes, %d runs, lease %d / %d / %d ms:", preset, nodes, runs,
                lease.leaseDuration().toMillis(), lease.renewDeadline().toMillis(), lease.retryPeriod().toMillis()));
        out.add(String.format(Locale.ROOT, "  crash -> every survivor DEAD:     bully only median %s p99 %s | with lease median %s p99 %s",
                sec(median(bully.detection())), sec(p99(bully.detection())), sec(median(leased.detection())),
                sec(p99(leased.detection()))));
        out.add(String.format(Locale.ROOT, "  crash -> new leader agreed:       bully only median %s p99 %s (%.2f / %.2f x lease)",
                sec(median(bully.failover())), sec(p99(bully.failover())), median(bully.failover()) / leaseMs,
                p99(bully.failover()) / leaseMs));
        out.add(String.format(Locale.ROOT, "  crash -> agreed + lease held:     with lease median %s p99 %s (%.2f / %.2f x lease;"
                        + " %.2f / %.2f x bully only; lease remaining at the crash median %s)",
                sec(median(leased.failover())), sec(p99(leased.failover())), median(leased.failover()) / leaseMs,
                p99(leased.failover()) / leaseMs, median(leased.failover()) / median(bully.failover()),
                p99(leased.failover()) / p99(bully.failover()), sec(median(leased.remaining()))));
        out.add(String.format(Locale.ROOT, "  close() -> new leader agreed:     bully only median %s p99 %s | with lease"
                        + " (+ lease held) median %s p99 %s (%.3f / %.3f x lease; %.2f / %.2f x bully only)",
                sec(median(bully.handover())), sec(p99(bully.handover())), sec(median(leased.handover())),
                sec(p99(leased.handover())), median(leased.handover()) / leaseMs, p99(leased.handover()) / leaseMs,
                median(leased.handover()) / median(bully.handover()), p99(leased.handover()) / p99(bully.handover())));
        out.forEach(System.out::println);
        return out;
    }

    private static String sec(double millis) {
        return String.format(Locale.ROOT, "%.2f s", millis / 1000);
    }

    static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** Nearest rank: the smallest value with at least 99 % of the samples at or below it. */
    static double p99(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int rank = (int) Math.ceil(0.99 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
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
