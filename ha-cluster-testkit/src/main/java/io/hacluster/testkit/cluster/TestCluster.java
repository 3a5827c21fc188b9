package io.hacluster.testkit.cluster;

import io.hacluster.ClusterMember;
import io.hacluster.ClusterNode;
import io.hacluster.ClusterNodeBuilder;
import io.hacluster.MembershipState;
import io.hacluster.config.ClusterSettings;
import io.hacluster.config.SqlSettings;
import io.hacluster.election.LeaderInfo;
import io.hacluster.election.LeaseSettings;
import io.hacluster.identity.NodeId;
import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster of {@link ClusterNode}s in this JVM on 127.0.0.1, for an application's tests, with
 * faults a test can inject and undo and bounded awaits that say what each node saw.
 *
 * <p>Nodes are addressed by index, {@code 0} to {@link #size()}{@code - 1}; {@link #node(int)}
 * is the node currently running at that index (a {@link #restart(int)} puts a new
 * {@code ClusterNode} there under the same id and ports). Every node gets the settings of
 * docs/cluster-node.md "Several nodes on one host": loopback bind and advertised host, its own
 * gossip and streaming ports, its own id file, the {@code local} gossip preset, and every node's
 * gossip address as a static seed (unless {@link Builder#staticSeeds(boolean)} is false). With a database, every node also gets the topology's primary
 * and replicas as {@code SqlSettings} (discovery table, leader lease, router) and a short lease
 * (3 s) so failovers happen within a test.
 *
 * <p>Faults are the library's own seams, not sleeps: a crash is {@link ClusterNode#halt()}; a
 * partition blocks gossip ({@link ClusterNode#gossipFaults()}) and cuts the streams
 * ({@link ClusterNode#streamFaults()}) for every pair across the groups, on both sides; a pause
 * isolates the node's gossip and cuts its streams. {@link #heal()} undoes partitions and pauses;
 * {@link #restart(int)} undoes a crash.
 *
 * <p>Get one from {@link HaClusterTest} or start one with {@link #builder()}; {@link #close()}
 * stops every node and deletes the id files. Faults are serialized on the cluster (a pause ends
 * on a timer thread); drive the cluster from the test thread.
 */
public final class TestCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TestCluster.class);
    private static final Duration POLL = Duration.ofMillis(50);

    private final String clusterName;
    private final List<Slot> slots;
    private final List<String> seeds;
    private final SqlSettings sql;
    private final PostgresTopology database;
    private final NodeCustomizer customizer;
    private final Duration awaitTimeout;
    private final Path idDirectory;
    private final ScheduledExecutorService resumer;
    private Duration startupTime = Duration.ZERO;
    private boolean closed;

    /** One index of the cluster: its fixed identity and ports, the node running there, its faults. */
    static final class Slot {
        final int index;
        final String id;
        final Path idFile;
        final int gossipPort;
        final int streamingPort;
        ClusterNode node;
        boolean crashed;
        boolean paused;

        Slot(int index, String id, Path idFile, int gossipPort, int streamingPort) {
            this.index = index;
            this.id = id;
            this.idFile = idFile;
            this.gossipPort = gossipPort;
            this.streamingPort = streamingPort;
        }

        boolean up() {
            return !crashed && node != null;
        }

        String status() {
            if (crashed) {
                return "[crashed]";
            }
            if (paused) {
                return "[paused]";
            }
            if (node != null && !node.gossipFaults().blocked().isEmpty()) {
                return "[partitioned from " + node.gossipFaults().blocked().size() + "]";
            }
            return "[up]";
        }
    }

    private TestCluster(Builder b) {
        if (b.nodes < 1) {
            throw new IllegalArgumentException("nodes must be 1 or more, got " + b.nodes);
        }
        this.clusterName = "tc-" + UUID.randomUUID().toString().substring(0, 8);
        this.customizer = b.customizer;
        this.awaitTimeout = b.awaitTimeout;
        this.database = b.database;
        this.sql = b.database == null ? null : sqlSettings(b.database);
        try {
            this.idDirectory = Files.createTempDirectory("ha-test-cluster-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Slot> created = new ArrayList<>();
        for (int i = 0; i < b.nodes; i++) {
            String id = NodeId.generate();
            Path idFile = idDirectory.resolve("node" + i + ".id");
            try {
                Files.writeString(idFile, id + "\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            created.add(new Slot(i, id, idFile, LoopbackPorts.tcpAndUdp(), LoopbackPorts.tcpAndUdp()));
        }
        this.slots = List.copyOf(created);
        if (!b.staticSeeds && b.database == null) {
            throw new IllegalArgumentException("without static seeds the nodes find each other only through the "
                    + "discovery table, which needs a database");
        }
        this.seeds = b.staticSeeds ? slots.stream().map(s -> "127.0.0.1:" + s.gossipPort).toList() : List.of();
        this.resumer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "test-cluster-" + clusterName + "-resumer");
            t.setDaemon(true);
            return t;
        });
    }

    /** A builder for a cluster outside the JUnit extension. */
    public static Builder builder() {
        return new Builder();
    }

    private static SqlSettings sqlSettings(PostgresTopology database) {
        return SqlSettings.builder()
                .dataSource(database.primary().dsn())
                .dataSourceReplicas(database.replicas().stream().map(PostgresServer::dsn).toList())
                .maxOpenConns(4)
                .maxIdleConns(2)
                .build();
    }

    /** Starts every node, then waits until they all agree ({@link #awaitConverged()}). */
    private void startAll() {
        long started = System.nanoTime();
        for (Slot s : slots) {
            s.node = startNode(s);
        }
        awaitConverged();
        startupTime = Duration.ofNanos(System.nanoTime() - started);
        LOG.info("test cluster {}: {} nodes up and converged in {} ms", clusterName, slots.size(),
                startupTime.toMillis());
    }

    private ClusterNode startNode(Slot s) {
        ClusterSettings settings = ClusterSettings.builder()
                .enable(true)
                .clusterName(clusterName)
                .overrideHostname("127.0.0.1")
                .bindAddress("127.0.0.1")
                .gossipPort(s.gossipPort)
                .streamingPort(s.streamingPort)
                .gossipPreset("local")
                .discoveryIntervalSeconds(1)
                .discoveryOfflineAfterSeconds(60)
                .nodeIdFile(s.idFile.toString())
                .seeds(seeds)
                .build();
        ClusterNodeBuilder builder = ClusterNode.builder()
                .clusterSettings(settings)
                .joinTimeout(Duration.ofSeconds(5))
                .leaveTimeout(Duration.ofSeconds(1))
                .shutdownHook(false);
        if (sql != null) {
            builder.sqlSettings(sql)
                    .leaseSettings(new LeaseSettings(Duration.ofSeconds(3), Duration.ofMillis(1500),
                            Duration.ofMillis(300)));
        }
        customizer.customize(s.index, builder);
        ClusterNode node = builder.build();
        try {
            customizer.beforeStart(s.index, node);
            node.start();
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
        return node;
    }

    // ------------------------------------------------------------------ nodes

    /** Number of nodes (crashed ones included). */
    public int size() {
        return slots.size();
    }

    /** The node running at {@code index}; after a crash, the crashed one until {@link #restart}. */
    public ClusterNode node(int index) {
        ClusterNode n = slot(index).node;
        if (n == null) {
            throw new IllegalStateException("node-" + index + " is not running");
        }
        return n;
    }

    /** The node ids, by index; an id stays the same across restarts. */
    public List<String> ids() {
        return slots.stream().map(s -> s.id).toList();
    }

    /** The nodes that are up (not crashed), by index. */
    public List<ClusterNode> runningNodes() {
        return slots.stream().filter(Slot::up).map(s -> s.node).toList();
    }

    /** The PostgreSQL topology the nodes use, if the cluster has a database. */
    public Optional<PostgresTopology> database() {
        return Optional.ofNullable(database);
    }

    /** The cluster's name, random per cluster. */
    public String clusterName() {
        return clusterName;
    }

    /** How long the start took, from the first node's build to every node agreeing. */
    public Duration startupTime() {
        return startupTime;
    }

    /** Gossip ports, then streaming ports, of every node: what the cluster binds on 127.0.0.1. */
    public List<Integer> ports() {
        return Stream.concat(slots.stream().map(s -> s.gossipPort), slots.stream().map(s -> s.streamingPort)).toList();
    }

    // ------------------------------------------------------------------ faults

    /**
     * Crashes node {@code index} abruptly ({@link ClusterNode#halt()}): no leave, no drain, no
     * lease release, its sockets closed, so peers see what {@code kill -9} shows them. Undo with
     * {@link #restart(int)}.
     *
     * <p>Unlike a killed process, the halted node's discovery service keeps refreshing its
     * discovery row until the restart or {@link #close()} (see docs/testkit.md).
     */
    public synchronized void crash(int index) {
        Slot s = slot(index);
        if (!s.up()) {
            throw new IllegalStateException("node-" + index + " is already crashed");
        }
        s.paused = false;
        s.crashed = true;
        s.node.halt();
        LOG.info("test cluster {}: crashed node-{} ({})", clusterName, index, s.id);
    }

    /**
     * Starts node {@code index} again under the same id, ports and customizer; a running node is
     * closed first (a graceful leave), a crashed one has its remains closed. Returns once the new
     * node has started (it may not have converged yet: {@link #awaitConverged()}).
     */
    public synchronized ClusterNode restart(int index) {
        Slot s = slot(index);
        if (s.node != null) {
            s.node.close();
        }
        s.crashed = false;
        s.paused = false;
        s.node = startNode(s);
        // The peers' streams to the old incarnation may still be cut (a partition or pause); the new
        // node has none of those faults, so the peers' side must not keep it cut.
        for (Slot other : slots) {
            if (other != s && other.up() && other.node.streamFaults().isCut(s.id)
                    && !other.node.gossipFaults().isBlocked(address(s))) {
                other.node.streamFaults().restore(s.id);
            }
        }
        LOG.info("test cluster {}: restarted node-{} ({})", clusterName, index, s.id);
        return s.node;
    }

    /**
     * Cuts every node of {@code groupA} off from every node of {@code groupB}, in both directions,
     * gossip and streams; the database stays reachable for both. Undo with {@link #heal()}.
     */
    public synchronized void partition(Collection<Integer> groupA, Collection<Integer> groupB) {
        Set<Integer> overlap = groupA.stream().filter(groupB::contains).collect(Collectors.toSet());
        if (!overlap.isEmpty()) {
            throw new IllegalArgumentException("a node cannot be on both sides of a partition: " + overlap);
        }
        for (int a : groupA) {
            for (int b : groupB) {
                cut(slot(a), slot(b));
                cut(slot(b), slot(a));
            }
        }
        LOG.info("test cluster {}: partitioned {} from {}", clusterName, groupA, groupB);
    }

    private void cut(Slot from, Slot to) {
        if (!from.up()) {
            throw new IllegalStateException("node-" + from.index + " is crashed; restart it first");
        }
        from.node.gossipFaults().block(address(to));
        from.node.streamFaults().cut(to.id);
    }

    /**
     * Stalls node {@code index} as a GC pause or {@code SIGSTOP} looks to its peers: its gossip
     * drops everything in and out and its streams to every peer are cut, so it answers nothing,
     * until {@link #resume(int)}, {@link #heal()} or, here, after {@code duration}.
     *
     * <p>What this does not model: the paused node's own threads keep running, so it still
     * renews its leader lease in the database and its timers still fire; a real stalled process
     * does neither. For that, a child JVM and {@code SIGSTOP} are needed (not built yet).
     */
    public synchronized void pause(int index, Duration duration) {
        Slot s = slot(index);
        if (!s.up()) {
            throw new IllegalStateException("node-" + index + " is crashed; restart it first");
        }
        s.paused = true;
        s.node.gossipFaults().isolate();
        for (Slot other : slots) {
            if (other != s) {
                s.node.streamFaults().cut(other.id);
            }
        }
        ClusterNode paused = s.node;
        resumer.schedule(() -> {
            synchronized (this) {
                if (!closed && s.node == paused && s.paused) {
                    resumeSlot(s);
                }
            }
        }, duration.toMillis(), TimeUnit.MILLISECONDS);
        LOG.info("test cluster {}: paused node-{} for {} ms", clusterName, index, duration.toMillis());
    }

    /** Ends a {@link #pause}: the node answers again; partitions it is part of stay. */
    public synchronized void resume(int index) {
        Slot s = slot(index);
        if (s.up() && s.paused) {
            resumeSlot(s);
        }
    }

    private void resumeSlot(Slot s) {
        s.paused = false;
        s.node.gossipFaults().endIsolation();
        for (Slot other : slots) {
            if (other != s && s.node.streamFaults().isCut(other.id)
                    && !s.node.gossipFaults().isBlocked(address(other))) {
                s.node.streamFaults().restore(other.id);
            }
        }
        LOG.info("test cluster {}: resumed node-{}", clusterName, s.index);
    }

    /** Removes every partition and pause (crashes stay: {@link #restart(int)} undoes those). */
    public synchronized void heal() {
        for (Slot s : slots) {
            if (!s.up()) {
                continue;
            }
            s.paused = false;
            s.node.gossipFaults().heal();
            for (Slot other : slots) {
                if (other != s && s.node.streamFaults().isCut(other.id)) {
                    s.node.streamFaults().restore(other.id);
                }
            }
        }
        LOG.info("test cluster {}: healed", clusterName);
    }

    private static InetSocketAddress address(Slot s) {
        return new InetSocketAddress("127.0.0.1", s.gossipPort);
    }

    // ------------------------------------------------------------------ awaits

    /**
     * Waits until every node that is up sees exactly the nodes that are up as ALIVE (itself
     * included), bounded by the cluster's await timeout.
     *
     * @throws AssertionError naming what each node saw, when it does not happen in time
     */
    public void awaitConverged() {
        awaitConverged(awaitTimeout);
    }

    /** {@link #awaitConverged()} with its own bound. */
    public void awaitConverged(Duration timeout) {
        await("awaitConverged()", timeout, () -> {
            Set<String> up = slots.stream().filter(Slot::up).map(s -> s.id).collect(Collectors.toSet());
            for (Slot s : slots) {
                if (s.up() && !aliveSeenBy(s.node).equals(up)) {
                    return false;
                }
            }
            return true;
        });
    }

    /**
     * Waits until every node that is up names the same leader, and that leader is up; returns it.
     *
     * @throws AssertionError naming what each node saw, when it does not happen in time
     */
    public ClusterNode awaitLeader() {
        return awaitLeader(awaitTimeout);
    }

    /** {@link #awaitLeader()} with its own bound. */
    public ClusterNode awaitLeader(Duration timeout) {
        String[] agreed = new String[1];
        await("awaitLeader()", timeout, () -> {
            Set<Optional<String>> named = slots.stream().filter(Slot::up)
                    .map(s -> s.node.leader().map(LeaderInfo::id)).collect(Collectors.toSet());
            if (named.size() != 1 || named.iterator().next().isEmpty()) {
                return false;
            }
            agreed[0] = named.iterator().next().get();
            return slots.stream().anyMatch(s -> s.up() && s.id.equals(agreed[0]));
        });
        return slots.stream().filter(s -> s.id.equals(agreed[0])).findFirst().orElseThrow().node;
    }

    /**
     * Waits until every other node that is up and not paused sees node {@code index} in
     * {@code state} (a node that has forgotten it does not count).
     *
     * @throws AssertionError naming what each node saw, when it does not happen in time
     */
    public void awaitMember(int index, MembershipState state) {
        awaitMember(index, state, awaitTimeout);
    }

    /** {@link #awaitMember(int, MembershipState)} with its own bound. */
    public void awaitMember(int index, MembershipState state, Duration timeout) {
        Slot subject = slot(index);
        Objects.requireNonNull(state, "state");
        await("awaitMember(node-" + index + ", " + state + ")", timeout, () -> {
            for (Slot s : slots) {
                if (s == subject || !s.up() || s.paused) {
                    continue;
                }
                Optional<MembershipState> seen = stateSeenBy(s.node, subject.id);
                if (seen.isEmpty() || seen.get() != state) {
                    return false;
                }
            }
            return true;
        });
    }

    /** The state in which {@code observer} sees node {@code index} now, if it knows it. */
    public Optional<MembershipState> stateSeenBy(int observer, int index) {
        return stateSeenBy(node(observer), slot(index).id);
    }

    private static Optional<MembershipState> stateSeenBy(ClusterNode observer, String id) {
        return observer.members().stream().filter(m -> m.id().equals(id)).map(ClusterMember::state).findFirst();
    }

    private static Set<String> aliveSeenBy(ClusterNode node) {
        return node.members().stream().filter(m -> m.state() == MembershipState.ALIVE)
                .map(ClusterMember::id).collect(Collectors.toSet());
    }

    /** What every node sees now, as the text a failed await shows. */
    public String report() {
        return ClusterReport.of(slots);
    }

    private void await(String what, Duration timeout, BooleanSupplier condition) {
        BoundedWait.until(condition, timeout, POLL, () -> what + " did not hold within " + timeout.toMillis()
                + " ms in cluster " + clusterName + "; what each node sees:\n" + report());
    }

    private Slot slot(int index) {
        if (index < 0 || index >= slots.size()) {
            throw new IndexOutOfBoundsException("node index " + index + " of a " + slots.size() + "-node cluster");
        }
        return slots.get(index);
    }

    // ------------------------------------------------------------------ teardown

    /**
     * Stops every node (in parallel: a running one with a graceful leave, a crashed one by closing
     * its remains) and deletes the id files. Idempotent; returns once every node is closed.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        resumer.shutdownNow();
        List<Thread> closers = new ArrayList<>();
        for (Slot s : slots) {
            ClusterNode n = s.node;
            if (n != null) {
                Thread t = new Thread(n::close, "test-cluster-" + clusterName + "-close-" + s.index);
                t.start();
                closers.add(t);
            }
        }
        for (Thread t : closers) {
            try {
                t.join(Duration.ofSeconds(60).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                LOG.warn("test cluster {}: {} did not finish within 60 s", clusterName, t.getName());
            }
        }
        try (Stream<Path> files = Files.list(idDirectory)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(idDirectory);
        } catch (IOException e) {
            LOG.warn("test cluster {}: could not delete {}: {}", clusterName, idDirectory, e.toString());
        }
    }

    @Override
    public String toString() {
        return "TestCluster[" + clusterName + ", " + slots.size() + " nodes]";
    }

    /** Options of a {@link TestCluster} started outside the JUnit extension. */
    public static final class Builder {
        private int nodes = 3;
        private PostgresTopology database;
        private NodeCustomizer customizer = NodeCustomizer.none();
        private Duration awaitTimeout = Duration.ofSeconds(30);
        private boolean staticSeeds = true;

        private Builder() {
        }

        /**
         * Whether every node gets every node's gossip address as a static seed (default true).
         * False: the nodes find each other through the database's discovery table alone, as a
         * deployment without {@code Seeds} does; needs {@link #database}.
         */
        public Builder staticSeeds(boolean use) {
            this.staticSeeds = use;
            return this;
        }

        /** Number of nodes (default 3). */
        public Builder nodes(int count) {
            this.nodes = count;
            return this;
        }

        /** A topology the nodes use (not closed by the cluster); none by default. */
        public Builder database(PostgresTopology topology) {
            this.database = topology;
            return this;
        }

        /** Called for every node before each start. */
        public Builder customizer(NodeCustomizer c) {
            this.customizer = Objects.requireNonNull(c, "customizer");
            return this;
        }

        /** Bound of the start and of every await without its own timeout (default 30 s). */
        public Builder awaitTimeout(Duration timeout) {
            this.awaitTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * Starts every node and returns once they agree; on failure everything started is closed.
         *
         * @throws AssertionError if they do not converge within the await timeout
         */
        public TestCluster start() {
            TestCluster cluster = new TestCluster(this);
            try {
                cluster.startAll();
            } catch (RuntimeException | Error e) {
                cluster.close();
                throw e;
            }
            return cluster;
        }
    }
}
