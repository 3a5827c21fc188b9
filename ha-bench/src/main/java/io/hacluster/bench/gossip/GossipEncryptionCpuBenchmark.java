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
 * nodes; ratios are encrypted / plain.
 *
 * <p>Run: {@code mvn -B -q -pl ha-bench -am exec:exec
 * -Dexec.args="-cp %classpath io.hacluster.bench.gossip.GossipEncryptionCpuBenchmark"}. Optional
 * arguments: {@code <rounds> <measureSeconds>} (defaults 3 and 20).
 */
public final class GossipEncryptionCpuBenchmark {

    private static final int NODES = 10;

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
        double plainSum = 0, encSum = 0;
        long plainPackets = 0, encPackets = 0;
        for (int r = 0; r < rounds; r++) {
            for (boolean encrypted : new boolean[] {false, true}) {
                double[] m = measure(encrypted, seconds, threads, "r" + r + (encrypted ? "e" : "p"));
                System.out.printf(Locale.ROOT, "round %d %-9s: gossip CPU %.1f ms/s (all %d nodes), %.0f packets/s received%n",
                        r + 1, encrypted ? "encrypted" : "plain", m[0], NODES, m[1]);
                if (encrypted) {
                    encSum += m[0];
                    encPackets += (long) m[1];
                } else {
                    plainSum += m[0];
                    plainPackets += (long) m[1];
                }
            }
        }
        System.out.printf(Locale.ROOT, "mean: plain %.1f ms/s, encrypted %.1f ms/s, ratio encrypted/plain %.2f "
                + "(packets/s plain %d, encrypted %d)%n", plainSum / rounds, encSum / rounds, encSum / plainSum,
                plainPackets / rounds, encPackets / rounds);
    }

    /** CPU ms per wall second of the gossip threads, and packets received per second, over one window. */
    private static double[] measure(boolean encrypted, int seconds, ThreadMXBean threads, String tag) throws Exception {
        byte[] key = Keyring.generateKey();
        List<Memberlist> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < NODES; i++) {
                GossipConfig config = GossipConfig.local(tag + "-n" + i).toBuilder()
                        .bindHost("127.0.0.1").bindPort(0)
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
            String prefix = "ha-" + tag + "-";
            long cpu0 = gossipCpu(threads, prefix);
            long packets0 = nodes.stream().mapToLong(n -> n.stats().packetsReceived()).sum();
            long t0 = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            long cpu1 = gossipCpu(threads, prefix);
            long packets1 = nodes.stream().mapToLong(n -> n.stats().packetsReceived()).sum();
            double wall = (System.nanoTime() - t0) / 1e9;
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
