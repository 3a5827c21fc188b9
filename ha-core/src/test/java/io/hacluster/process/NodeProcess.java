package io.hacluster.process;

import io.hacluster.ClusterMember;
import io.hacluster.ClusterMessage;
import io.hacluster.ClusterNode;
import io.hacluster.ClusterNodeBuilder;
import io.hacluster.config.ClusterSettings;
import io.hacluster.config.SqlSettings;
import io.hacluster.election.LeaderInfo;
import io.hacluster.election.LeaseSettings;
import io.hacluster.messaging.SendFailedException;
import io.hacluster.messaging.SendResult;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One ClusterNode in a child JVM, driven over stdin and reporting on stdout, so that tests can
 * SIGTERM, SIGKILL and restart a real process. The node installs its shutdown hook: SIGTERM is a
 * graceful leave.
 *
 * <p>Arguments: clusterName nodeIdFile gossipPort streamingPort seeds(comma separated or -)
 * sendTimeoutMillis, then optionally {@code preset=<lan|local|wan>} (gossip preset, default
 * {@code local}) and {@code lease=<leaseMillis>,<renewDeadlineMillis>,<retryMillis>}. When the
 * environment variable {@value #DSN_ENV} is set, it is the master's data source (a DSN with the
 * password inside, so it goes through the environment, not the command line that {@code ps}
 * shows): the node then elects with the lease in that database.
 *
 * <p>Output lines: {@code READY id}, {@code M <id> <STATE> <epochMillis>} on every
 * change of the member list, {@code H <sender> <seq>} per handled broadcast,
 * {@code L <leaderId or -> <epoch> <local> <cause> <fencingToken>} on every leader change,
 * {@code R <seq> <target> OK} or {@code R <seq> <target> FAIL <ExceptionClass> <epochMillis>} per
 * target of each sent broadcast, {@code PENDING <count> <oldestAgeMillis>},
 * {@code LEADER <ref> <leaderId or -> <epoch> <fencingToken> <isLeader>}. Commands:
 * {@code SEND <count> <intervalMillis>}, {@code STOP}, {@code PENDING}, {@code LEADER <ref>}
 * (this node's {@code leader()} and {@code isLeader()} now; the reference only matches the answer
 * to the question), {@code GSTATS <ref>} (answered {@code GSTATS <ref> <fastPathDeaths> <fastPathAborts>}
 * from this node's gossip statistics), {@code EXIT}.
 */
public final class NodeProcess {

    /** Environment variable with the lease database's DSN. */
    static final String DSN_ENV = "HA_NODE_PROCESS_DSN";

    private static final PrintStream OUT = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out),
            true, StandardCharsets.UTF_8);

    private final ClusterNode node;
    private final Map<Long, Long> pending = new ConcurrentHashMap<>();
    private final AtomicBoolean sending = new AtomicBoolean();

    private NodeProcess(ClusterNode node) {
        this.node = node;
    }

    public static void main(String[] args) throws Exception {
        String clusterName = args[0];
        String idFile = args[1];
        int gossipPort = Integer.parseInt(args[2]);
        int streamingPort = Integer.parseInt(args[3]);
        List<String> seeds = args[4].equals("-") ? List.of() : Arrays.asList(args[4].split(","));
        Duration sendTimeout = Duration.ofMillis(Long.parseLong(args[5]));
        String preset = "local";
        LeaseSettings lease = LeaseSettings.defaults();
        for (int i = 6; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            switch (kv[0]) {
                case "preset" -> preset = kv[1];
                case "lease" -> {
                    String[] ms = kv[1].split(",");
                    lease = new LeaseSettings(Duration.ofMillis(Long.parseLong(ms[0])),
                            Duration.ofMillis(Long.parseLong(ms[1])), Duration.ofMillis(Long.parseLong(ms[2])));
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        String dsn = System.getenv(DSN_ENV);
        ClusterSettings settings = ClusterSettings.builder()
                .enable(true)
                .clusterName(clusterName)
                .overrideHostname("127.0.0.1")
                .bindAddress("127.0.0.1")
                .gossipPort(gossipPort)
                .streamingPort(streamingPort)
                .gossipPreset(preset)
                .nodeIdFile(idFile)
                .seeds(seeds)
                .build();
        ClusterNodeBuilder builder = ClusterNode.builder().clusterSettings(settings).shutdownHook(true)
                .sendTimeout(sendTimeout).leaseSettings(lease);
        if (dsn != null && !dsn.isEmpty()) {
            builder.sqlSettings(SqlSettings.builder().dataSource(dsn).maxOpenConns(4).maxIdleConns(2).build());
        }
        ClusterNode node = builder.build();
        node.registerHandler("bcast", in -> OUT.println("H " + in.senderId() + " "
                + new String(in.data(), StandardCharsets.UTF_8)));
        node.onLeaderChange(c -> OUT.println("L " + c.leader().map(l -> l.id() + " " + l.epoch()).orElse("- 0")
                + " " + c.local() + " " + c.cause().replace(' ', '_') + " "
                + c.leader().map(LeaderInfo::fencingToken).orElse(0L)));
        node.start();
        // runs beside the node's own hook: once SIGTERM's graceful close is done, say what it did
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (node.state() != io.hacluster.LifecycleState.CLOSED && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(5);  // not a spin: the close it waits for needs the CPU
                } catch (InterruptedException e) {
                    return;
                }
            }
            OUT.println("CLOSED " + node.messenger().stats());
        }, "child-closed-report"));
        NodeProcess p = new NodeProcess(node);
        OUT.println("READY " + node.id());
        Thread watcher = new Thread(p::watchMembers, "child-members");
        watcher.setDaemon(true);
        watcher.start();
        p.commands();
    }

    private void watchMembers() {
        Map<String, String> last = new HashMap<>();
        while (true) {
            try {
                for (ClusterMember m : node.members()) {
                    String state = m.state().name();
                    if (!state.equals(last.put(m.id(), state))) {
                        OUT.println("M " + m.id() + " " + state + " " + System.currentTimeMillis());
                    }
                }
                Thread.sleep(5);
            } catch (IllegalStateException closed) {
                return;
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void commands() throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = line.trim().split(" ");
            switch (w[0]) {
                case "SEND" -> startSending(Long.parseLong(w[1]), Long.parseLong(w[2]));
                case "STOP" -> sending.set(false);
                case "PENDING" -> {
                    long now = System.nanoTime();
                    long oldest = pending.values().stream().mapToLong(t -> (now - t) / 1_000_000).max().orElse(0);
                    OUT.println("PENDING " + pending.size() + " " + oldest);
                }
                case "LEADER" -> {
                    boolean leading = node.isLeader();
                    Optional<LeaderInfo> leader = node.leader();
                    OUT.println("LEADER " + (w.length > 1 ? w[1] : "-") + " "
                            + leader.map(l -> l.id() + " " + l.epoch() + " " + l.fencingToken()).orElse("- 0 0")
                            + " " + leading);
                }
                case "GSTATS" -> {
                    io.hacluster.gossip.GossipStats g = node.gossipStats();
                    OUT.println("GSTATS " + (w.length > 1 ? w[1] : "-") + " " + g.fastPathDeaths() + " "
                            + g.fastPathAborts());
                }
                case "EXIT" -> {
                    node.close();
                    System.exit(0);
                }
                default -> OUT.println("ERROR unknown command " + line);
            }
        }
    }

    private void startSending(long count, long intervalMillis) {
        sending.set(true);
        Thread t = new Thread(() -> {
            for (long seq = 1; seq <= count && sending.get(); seq++) {
                long s = seq;
                pending.put(s, System.nanoTime());
                try {
                    node.send(ClusterMessage.reliable("bcast", (node.id() + ":" + s).getBytes(StandardCharsets.UTF_8))
                            .waitingForAll(true)).whenComplete((r, e) -> report(s, r, e));
                } catch (IllegalStateException closed) {
                    pending.remove(s);
                    return;
                }
                try {
                    Thread.sleep(intervalMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "child-sender");
        t.setDaemon(true);
        t.start();
    }

    private void report(long seq, SendResult result, Throwable error) {
        long now = System.currentTimeMillis();
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (e instanceof SendFailedException f) {
            result = f.result();
        }
        if (result != null) {
            for (String t : result.acknowledged()) {
                OUT.println("R " + seq + " " + t + " OK");
            }
            for (Map.Entry<String, Throwable> f : result.failures().entrySet()) {
                OUT.println("R " + seq + " " + f.getKey() + " FAIL " + f.getValue().getClass().getSimpleName() + " " + now);
            }
        } else if (e != null) {
            // a single target failed, or this node is closing: the cause names no target
            String target = e instanceof io.hacluster.messaging.PeerUnavailableException u ? u.nodeId()
                    : e instanceof io.hacluster.messaging.DeliveryTimeoutException d ? d.nodeId() : "?";
            OUT.println("R " + seq + " " + target + " FAIL " + e.getClass().getSimpleName() + " " + now);
        }
        pending.remove(seq);
    }
}
