package io.hacluster.bench.chat;

import io.hacluster.examples.chat.ChatClient;
import io.hacluster.examples.chat.LocalChatCluster;
import io.hacluster.examples.chat.NginxFront;
import io.hacluster.examples.chat.Post;
import io.hacluster.testkit.PostgresTopology;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * End-to-end post latency of the chat example: three nodes (child JVMs) behind nginx on
 * 127.0.0.1, one PostgreSQL; an author posts through nginx (each post lands on some node A), and
 * websocket clients on the other nodes (B, C) receive it. Latency is from the post's
 * <em>scheduled</em> send time (so a stalled sender does not hide queueing) to its arrival at a
 * client on a node other than the one that wrote it. Two fan-outs, same run, same path: the
 * cluster's reliable message, and the peer, PostgreSQL {@code LISTEN/NOTIFY} from the post's
 * transaction.
 *
 * <pre>
 * mvn -B -q -pl ha-examples,ha-bench -am package -DskipTests dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp ha-bench/target/classes:$(cat ha-bench/target/cp.txt) io.hacluster.bench.chat.ChatFanoutBenchmark [fixedRate] [seconds]
 * </pre>
 */
public final class ChatFanoutBenchmark {

    private static final int[] STEPS = {50, 100, 200, 400, 800};
    private static final Duration STEP = Duration.ofSeconds(5);
    private static final double P99_BOUND_MS = 50;

    private ChatFanoutBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int fixedRate = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        if (NginxFront.binary().isEmpty()) {
            System.err.println("nginx is not installed (apt-get install nginx-light)");
            System.exit(2);
        }
        System.out.printf("chat fan-out through nginx, 3 nodes on 127.0.0.1, %d cores; fixed rate %d posts/s for %d s;"
                + " then %s posts/s for %d s each%n", Runtime.getRuntime().availableProcessors(), fixedRate, seconds,
                Arrays.toString(STEPS), STEP.toSeconds());
        try (PostgresTopology pg = PostgresTopology.start(0)) {
            for (boolean notify : new boolean[] {false, true}) {
                run(pg, notify, fixedRate, seconds);
            }
        }
    }

    private static void run(PostgresTopology pg, boolean notify, int fixedRate, int seconds) throws Exception {
        String name = notify ? "postgres LISTEN/NOTIFY" : "cluster message";
        Path dir = Files.createTempDirectory("ha-chat-bench-");
        try (LocalChatCluster cluster = LocalChatCluster.start(dir, new LocalChatCluster.Options(pg.primary().dsn(),
                List.of(), List.of(), 3, true, Duration.ofHours(1), notify))) {
            ChatClient author = ChatClient.login(cluster.entry(), "bench-author");
            long channel = author.channel(notify ? "bench-notify" : "bench-cluster");
            Recorder recorder = new Recorder();
            List<ChatClient> watchers = cluster.watchersOnEveryNode(channel, notify ? "bench-n" : "bench-c",
                    Duration.ofSeconds(60), (w, p) -> recorder.onPost(w, p, System.nanoTime()));
            recorder.watchers = watchers;
            phase(author, channel, recorder, 20, 3);  // warm-up: JIT, pools, nginx keep-alive
            Result fixed = phase(author, channel, recorder, fixedRate, seconds);
            System.out.printf("%-24s fixed %4d/s: %s%n", name, fixedRate, fixed);
            int best = 0;
            for (int rate : STEPS) {
                Result r = phase(author, channel, recorder, rate, (int) STEP.toSeconds());
                boolean ok = r.p99() < P99_BOUND_MS && r.missing() == 0 && r.achievedRate() >= 0.95 * rate;
                System.out.printf("%-24s step  %4d/s: %s%s%n", name, rate, r, ok ? "" : "  <- over the bound");
                if (!ok) {
                    break;
                }
                best = rate;
            }
            System.out.printf("%-24s highest sustained rate with p99 < %.0f ms: %s%n", name, P99_BOUND_MS,
                    best == 0 ? "below " + STEPS[0] + "/s" : best + " posts/s");
            watchers.forEach(ChatClient::close);
            author.close();
        }
    }

    /** Posts at {@code rate} for {@code seconds}; waits (bounded) for every receipt; the figures. */
    private static Result phase(ChatClient author, long channel, Recorder recorder, int rate, int seconds)
            throws InterruptedException {
        int total = rate * seconds;
        long[] scheduled = new long[total];
        int base = recorder.begin(scheduled);
        ExecutorService senders = Executors.newFixedThreadPool(16);
        AtomicInteger failed = new AtomicInteger();
        long start = System.nanoTime() + 50_000_000L;
        long periodNanos = 1_000_000_000L / rate;
        for (int i = 0; i < total; i++) {
            scheduled[i] = start + i * periodNanos;
            int seq = i;
            long wait = scheduled[i] - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            senders.execute(() -> {
                try {
                    Post p = author.post(channel, "bench " + (base + seq));
                    recorder.expect(p.originNode());
                } catch (Exception e) {
                    failed.incrementAndGet();
                }
            });
        }
        senders.shutdown();
        senders.awaitTermination(60, TimeUnit.SECONDS);
        double sentSeconds = (System.nanoTime() - start) / 1e9;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (recorder.received() < recorder.expected() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return recorder.end(total, failed.get(), total / Math.max(sentSeconds, 1e-9));
    }

    record Result(int posts, int failed, double achievedRate, int samples, int missing, double p50, double p99,
                  double max) {
        @Override
        public String toString() {
            return String.format("%5d posts (%d failed), %6.1f/s sent, %6d receipts, %d missing, p50 %6.2f ms,"
                    + " p99 %7.2f ms, max %7.2f ms", posts, failed, achievedRate, samples, missing, p50, p99, max);
        }
    }

    /** Receipts at clients on other nodes than the post's writer. */
    static final class Recorder {
        volatile List<ChatClient> watchers = List.of();
        private volatile long[] scheduled = new long[0];
        private volatile int base;
        private int next;
        private final ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
        private final java.util.concurrent.atomic.AtomicLong expected = new java.util.concurrent.atomic.AtomicLong();

        int begin(long[] schedule) {
            latencies.clear();
            expected.set(0);
            base = next;
            next += schedule.length;
            scheduled = schedule;
            return base;
        }

        /** A post written on {@code origin} is due at every watcher served by another node. */
        void expect(String origin) {
            expected.addAndGet(watchers.stream().filter(w -> !origin.equals(w.servingNode())).count());
        }

        long expected() {
            return expected.get();
        }

        long received() {
            return latencies.size();
        }

        void onPost(ChatClient watcher, Post p, long arrival) {
            String text = p.message();
            if (!text.startsWith("bench ") || p.originNode().equals(watcher.servingNode())) {
                return;
            }
            int seq = Integer.parseInt(text.substring(6)) - base;
            long[] s = scheduled;
            if (seq >= 0 && seq < s.length) {
                latencies.add(arrival - s[seq]);
            }
        }

        Result end(int posts, int failed, double achievedRate) {
            long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
            return new Result(posts, failed, achievedRate, sorted.length, (int) Math.max(0, expected.get() - sorted.length),
                    pct(sorted, 0.50), pct(sorted, 0.99), sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1e6);
        }

        private static double pct(long[] sorted, double q) {
            if (sorted.length == 0) {
                return Double.NaN;
            }
            return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
        }
    }
}
