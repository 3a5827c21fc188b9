package io.hacluster.bench.gossip;

import io.hacluster.gossip.GossipConfig;
import io.hacluster.gossip.Keyring;
import io.hacluster.gossip.Memberlist;
import io.hacluster.gossip.netty.NettyTransport;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Encryption's cost in gossip CPU: ten real Memberlist nodes over NettyTransport on 127.0.0.1 in
 * this JVM, LOCAL preset (1 s probes, 100 ms gossip, 15 s push/pull), once without a key and
 * once with one (AES-256-GCM), in alternating rounds of the same run so that machine load hits
 * both alike. The figure is the CPU time of the gossip threads (state machine and Netty I/O,
 * every thread named {@code ha-<node>-gossip*}) per second of wall time, summed over the ten
 * nodes; ratios are encrypted / plain. Two loads: the quiet steady state (probes, acks and
 * push/pulls only), and the same with {@value #USER_RATE} best-effort 512-byte user datagrams a
 * second from every node to a random other (memberlist's {@code SendBestEffort}), where each
 * datagram is one more encryption and decryption.
 *
 * <p>Run: {@code mvn -B -q -pl ha-bench -am exec:exec
 * -Dexec.args="-cp %classpath io.hacluster.bench.gossip.GossipEncryptionCpuBenchmark"}. Optional
 * arguments: {@code <rounds> <measureSeconds>} (defaults 3 and 20).
 */
public final class GossipEncryptionCpuBenchmark {

    private static final int NODES = 10;
    private static final int USER_RATE = 100;

    private GossipEncryptionCpuBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        SimScaleBenchmark.quietLogging();
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        if (!threads.isThreadCpuTimeSupported()) {
            throw new IllegalStateException("thread CPU time is not supported by this JVM");
        }
        threads.setThreadCpuTimeEnabled(true);
        System.out.printf(Locale.ROOT, "GossipEncryptionCpuBenchmark: %d nodes, LOCAL preset, %d rounds of %d s each%n",
                NODES, rounds, seconds);
        // warm-up, not reported: JIT and class loading would otherwise fall on the first round
        measure(false, USER_RATE, 3, threads, "warm-p");
        measure(true, USER_RATE, 3, threads, "warm-e");
        for (int load : new int[] {0, USER_RATE}) {
            double plainSum = 0, encSum = 0;
            long plainPackets = 0, encPackets = 0;
            for (int r = 0; r < rounds; r++) {
                for (boolean encrypted : new boolean[] {false, true}) {
                    double[] m = measure(encrypted, load, seconds, threads,
                            "l" + load + "r" + r + (encrypted ? "e" : "p"));
                    System.out.printf(Locale.ROOT, "user %3d/s/node round %d %-9s: gossip CPU %.1f ms/s (all %d nodes), "
                            + "%.0f packets/s received%n", load, r + 1, encrypted ? "encrypted" : "plain", m[0], NODES, m[1]);
                    if (encrypted) {
                        encSum += m[0];
                        encPackets += (long) m[1];
                    } else {
                        plainSum += m[0];
                        plainPackets += (long) m[1];
                    }
                }
            }
            System.out.printf(Locale.ROOT, "user %3d/s/node mean: plain %.1f ms/s, encrypted %.1f ms/s, ratio "
                    + "encrypted/plain %.2f (packets/s plain %d, encrypted %d)%n", load, plainSum / rounds,
                    encSum / rounds, encSum / plainSum, plainPackets / rounds, encPackets / rounds);
        }
    }

    /** CPU ms per wall second of the gossip threads, and packets received per second, over one window. */
    private static double[] measure(boolean encrypted, int userRate, int seconds, ThreadMXBean threads, String tag)
            throws Exception {
        byte[] key = Keyring.generateKey();
        List<Memberlist> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < NODES; i++) {
                GossipConfig config = GossipConfig.local(tag + "-n" + i).toBuilder()
                        .bindHost("127.0.0.1").bindPort(0)
                        .tcpTimeout(java.time.Duration.ofSeconds(10)) // a cold JVM's first join; not in the steady state
                        .keyring(encrypted ? Keyring.of(key) : null).build();
                Memberlist node = Memberlist.builder(config).transport(NettyTransport.bind(config)).build();
                if (!nodes.isEmpty()) {
                    node.join(List.of(nodes.get(0).advertiseAddress())).get(30, TimeUnit.SECONDS);
                }
                nodes.add(node);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!nodes.stream().allMatch(n -> n.liveMembers().size() == NODES)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("cluster did not converge");
                }
                Thread.sleep(100);
            }
            Thread.sleep(3_000); // let the join's broadcasts drain before measuring the steady state
            java.util.concurrent.ScheduledExecutorService load = null;
            if (userRate > 0) {
                load = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
                java.util.Random random = new java.util.Random(1);
                byte[] payload = new byte[512];
                load.scheduleAtFixedRate(() -> {
                    for (Memberlist from : nodes) {
                        Memberlist to = nodes.get(random.nextInt(NODES));
                        if (to != from) {
                            from.sendBestEffort(to.localMember(), payload);
                        }
                    }
                }, 0, 1_000_000 / userRate, TimeUnit.MICROSECONDS);
            }
            String prefix = "ha-" + tag + "-";
            long cpu0 = gossipCpu(threads, prefix);
            long packets0 = nodes.stream().mapToLong(n -> n.stats().packetsReceived()).sum();
            long t0 = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            long cpu1 = gossipCpu(threads, prefix);
            long packets1 = nodes.stream().mapToLong(n -> n.stats().packetsReceived()).sum();
            double wall = (System.nanoTime() - t0) / 1e9;
            if (load != null) {
                load.shutdownNow();
            }
            return new double[] {(cpu1 - cpu0) / 1e6 / wall, (packets1 - packets0) / wall};
        } finally {
            nodes.forEach(Memberlist::shutdown);
        }
    }

    private static long gossipCpu(ThreadMXBean threads, String prefix) {
        long total = 0;
        for (var info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith(prefix) && info.getThreadName().contains("-gossip")) {
                long t = threads.getThreadCpuTime(info.getThreadId());
                if (t > 0) {
                    total += t;
                }
            }
        }
        return total;
    }
}
