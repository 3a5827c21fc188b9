package io.hacluster.bench.gossip;

import io.hacluster.gossip.GossipConfig;
import io.hacluster.gossip.Member;
import io.hacluster.gossip.MemberState;
import io.hacluster.gossip.Memberlist;
import io.hacluster.gossip.SimulatedNetwork;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Gossip at scale in the {@link SimulatedNetwork} (virtual time, real memberlist bytes, LAN
 * preset with compression off, 1..2 ms links, no loss). Compression is off only to save CPU in
 * the simulation (the LZW codec dominated the profile); it changes bytes, not message counts,
 * so byte figures are uncompressed upper bounds:
 * <ol>
 *   <li>how long a new node's join takes to reach 50%, 90%, 99% and 99.99% of a 1,000-node
 *       cluster (every node lists it alive);</li>
 *   <li>steady-state load per node at 10, 100 and 1,000 nodes: datagrams, stream exchanges and
 *       bytes sent per node per second of virtual time, measured over a quiet window after
 *       convergence.</li>
 * </ol>
 * Run: {@code mvn -B -q -pl ha-bench exec:exec -Dexec.args="-cp %classpath io.hacluster.bench.gossip.SimScaleBenchmark"}.
 * Optional arguments: {@code <seed> <measureSeconds>} (defaults 1 and 360: the window must span
 * at least one push/pull period, 180 s at 1,000 nodes, or stream counts come out biased low).
 */
public final class SimScaleBenchmark {

    private SimScaleBenchmark() {
    }

    public static void main(String[] args) throws java.io.IOException {
        quietLogging();
        long seed = args.length > 0 ? Long.parseLong(args[0]) : 1;
        int measureSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 360;
        System.out.printf(Locale.ROOT, "SimScaleBenchmark seed=%d, LAN preset (compression off), link delay 1..2 ms, no loss%n", seed);

        List<double[]> loads = new ArrayList<>();
        Cluster big = null;
        for (int n : new int[] {10, 100, 1000}) {
            Cluster c = bootstrap(n, seed);
            loads.add(steadyLoad(c, n, measureSeconds));
            big = c;
        }
        double base = loads.get(0)[1];
        System.out.println();
        System.out.println("| nodes | datagrams/node/s | streams/node/s | messages/node/s | vs 10 nodes | "
                + "datagram bytes/node/s | stream bytes/node/s | bootstrap converge (virtual) | wall |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        int i = 0;
        for (int n : new int[] {10, 100, 1000}) {
            double[] l = loads.get(i++);
            System.out.printf(Locale.ROOT, "| %d | %.2f | %.4f | %.2f | %+.1f%% | %.0f | %.0f | %.1f s | %.1f s |%n",
                    n, l[0], l[2], l[1], 100.0 * (l[1] - base) / base, l[3], l[6], l[4], l[5]);
        }

        joinSpread(big, 1000);
    }

    /**
     * Logback's default is DEBUG on stdout, which would swamp the figures and slow the run.
     * Before any logger exists, point logback at a WARN-level configuration unless the caller
     * chose one.
     */
    static void quietLogging() throws java.io.IOException {
        if (System.getProperty("logback.configurationFile") != null) {
            return;
        }
        java.nio.file.Path file = java.nio.file.Files.createTempFile("ha-bench-sim-logback", ".xml");
        file.toFile().deleteOnExit();
        java.nio.file.Files.writeString(file, """
                <configuration>
                  <appender name="ERR" class="ch.qos.logback.core.ConsoleAppender">
                    <target>System.err</target>
                    <encoder><pattern>%-5level %logger{20} - %msg%n</pattern></encoder>
                  </appender>
                  <root level="WARN"><appender-ref ref="ERR"/></root>
                </configuration>
                """);
        System.setProperty("logback.configurationFile", file.toString());
    }

    /** Starts n nodes, joins each through a random earlier node, runs until all see all. */
    private static Cluster bootstrap(int n, long seed) {
        long wallStart = System.nanoTime();
        SimulatedNetwork net = new SimulatedNetwork(seed);
        List<Memberlist> nodes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            SimulatedNetwork.SimNode node = net.addNode(String.format("n%04d", i));
            Memberlist m = Memberlist.builder(config(node.name()))
                    .transport(node.transport()).scheduler(node.scheduler()).random(node.random()).build();
            nodes.add(m);
            if (i > 0) {
                int seedNode = node.random().nextInt(i);
                m.join(List.of(net.node(String.format("n%04d", seedNode)).address()));
            }
            net.runFor(Duration.ofMillis(5));
        }
        Cluster c = new Cluster(net, nodes, wallStart);
        boolean ok = net.runUntil(() -> c.allSeeAll(n), Duration.ofMillis(500), Duration.ofMinutes(10));
        if (!ok) {
            throw new IllegalStateException(n + " nodes did not converge within 10 virtual minutes");
        }
        return c;
    }

    private static GossipConfig config(String name) {
        return GossipConfig.lan(name).toBuilder().enableCompression(false).build();
    }

    private record Cluster(SimulatedNetwork net, List<Memberlist> nodes, long wallStart) {
        boolean allSeeAll(int n) {
            for (Memberlist m : nodes) {
                if (m.numMembers() != n) {
                    return false;
                }
            }
            for (Memberlist m : nodes) {
                for (Member x : m.members()) {
                    if (x.state() != MemberState.ALIVE) {
                        return false;
                    }
                }
            }
            return true;
        }
    }

    /** Returns {datagrams/node/s, messages/node/s, streams/node/s, bytes/node/s, converge s, wall s}. */
    private static double[] steadyLoad(Cluster c, int n, int measureSeconds) {
        long wallStart = c.wallStart();
        double converged = c.net().elapsed().toMillis() / 1000.0;
        // Let join broadcasts drain, then measure a window.
        c.net().runFor(Duration.ofSeconds(30));
        long packets0 = 0, streams0 = 0, bytes0 = 0, sbytes0 = 0;
        for (SimulatedNetwork.SimNode s : c.net().nodes()) {
            packets0 += s.packetsSent();
            streams0 += s.streamsSent();
            bytes0 += s.bytesSent();
            sbytes0 += s.streamBytesSent();
        }
        c.net().runFor(Duration.ofSeconds(measureSeconds));
        long packets = 0, streams = 0, bytes = 0, sbytes = 0;
        for (SimulatedNetwork.SimNode s : c.net().nodes()) {
            packets += s.packetsSent();
            streams += s.streamsSent();
            bytes += s.bytesSent();
            sbytes += s.streamBytesSent();
        }
        double perNodeSec = (double) n * measureSeconds;
        double dgrams = (packets - packets0) / perNodeSec;
        double strms = (streams - streams0) / perNodeSec;
        // A stream exchange is two messages (request and reply).
        double msgs = dgrams + 2 * strms;
        double wall = (System.nanoTime() - wallStart) / 1e9;
        double streamBytes = (sbytes - sbytes0) / perNodeSec;
        System.out.printf(Locale.ROOT, "n=%d: converged after %.1f s virtual; %.2f datagrams + %.4f streams per node per s; "
                + "%.0f datagram bytes + %.0f stream bytes per node per s (wall %.1f s, %d events)%n",
                n, converged, dgrams, strms, (bytes - bytes0) / perNodeSec, streamBytes, wall, c.net().eventsRun());
        return new double[] {dgrams, msgs, strms, (bytes - bytes0) / perNodeSec, converged, wall, streamBytes};
    }

    private static void joinSpread(Cluster c, int n) {
        long wallStart = System.nanoTime();
        SimulatedNetwork.SimNode node = c.net().addNode("newcomer");
        Memberlist m = Memberlist.builder(config("newcomer"))
                .transport(node.transport()).scheduler(node.scheduler()).random(node.random()).build();
        long start = c.net().nanoTime();
        m.join(List.of(c.net().node("n0000").address()));
        double[] fractions = {0.5, 0.9, 0.99, 0.9999};
        double[] reached = new double[fractions.length];
        int next = 0;
        long step = Duration.ofMillis(10).toNanos();
        while (next < fractions.length && c.net().nanoTime() - start < Duration.ofMinutes(5).toNanos()) {
            c.net().runFor(Duration.ofNanos(step));
            int seen = 0;
            for (Memberlist x : c.nodes()) {
                Member mem = x.member("newcomer");
                if (mem != null && mem.state() == MemberState.ALIVE) {
                    seen++;
                }
            }
            while (next < fractions.length && seen >= Math.ceil(fractions[next] * n)) {
                reached[next++] = (c.net().nanoTime() - start) / 1e9;
            }
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "Join of one node into %d (virtual time, 10 ms resolution; wall %.1f s):%n", n,
                (System.nanoTime() - wallStart) / 1e9);
        System.out.println("| reached | time |");
        System.out.println("|---|---|");
        for (int i = 0; i < fractions.length; i++) {
            System.out.printf(Locale.ROOT, "| %s%% of nodes | %s |%n", fractions[i] * 100,
                    i < next ? String.format(Locale.ROOT, "%.2f s", reached[i]) : "not within 5 min");
        }
    }
}
