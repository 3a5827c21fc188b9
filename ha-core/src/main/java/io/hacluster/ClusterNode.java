package io.hacluster;

import io.hacluster.config.ClusterSettings;
import io.hacluster.config.HaConfig;
import io.hacluster.config.SqlSettings;
import io.hacluster.db.DatabaseRouter;
import io.hacluster.discovery.ClusterDiscoveryService;
import io.hacluster.discovery.ConnectionSource;
import io.hacluster.discovery.DiscoveryRow;
import io.hacluster.discovery.DiscoverySettings;
import io.hacluster.election.Election;
import io.hacluster.election.LeaderChange;
import io.hacluster.election.LeaderInfo;
import io.hacluster.gossip.FaultInjectingTransport;
import io.hacluster.gossip.GossipConfig;
import io.hacluster.gossip.GossipFaults;
import io.hacluster.gossip.Member;
import io.hacluster.gossip.MemberState;
import io.hacluster.gossip.Memberlist;
import io.hacluster.gossip.netty.NettyTransport;
import io.hacluster.gossip.netty.NettyTransportConfig;
import io.hacluster.health.HealthServer;
import io.hacluster.health.HealthSource;
import io.hacluster.identity.AdvertisedHost;
import io.hacluster.identity.NodeId;
import io.hacluster.identity.NodeMeta;
import io.hacluster.jobs.JobServer;
import io.hacluster.messaging.Messenger;
import io.hacluster.messaging.MessengerConfig;
import io.hacluster.messaging.NodeReply;
import io.hacluster.messaging.SendResult;
import io.hacluster.messaging.StreamFaults;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node of an HA cluster, embedded in an application server: what Mattermost's
 * {@code ClusterInterface} gives a Mattermost server.
 *
 * <p>{@link #start()} brings up, in order: the database router (when SqlSettings has a
 * DataSource), the messenger on the StreamingPort, gossip on the GossipPort (with this node's
 * id, version, schema version, config hash, host and streaming port in its node meta), the
 * health endpoint (when HealthPort &gt; 0), and discovery: it registers in the master's
 * {@code ClusterDiscovery} table and joins the fresh rows of its cluster plus the static
 * {@code Seeds}. From then on gossip's view of each peer (alive, suspect, dead, left) drives
 * the messenger (synchronously, before {@link #members()} shows it), and {@link #clusterInfos()}
 * shows every node GREEN or RED.
 *
 * <p>{@link #close()} answers 503 on the health endpoint (for {@code healthDrain}), deletes the
 * discovery row, drains the messenger (every handled message acknowledged, the rest failed at its
 * senders at once), leaves gossip gracefully and stops everything; it is idempotent.
 *
 * <p>Threads: besides those of gossip ({@code ha-<id>-gossip...}), the messenger
 * ({@code ha-<id>-stream-io-N}, {@code ha-<id>-handler-N}, ...), the router and the health
 * endpoint ({@code ha-<id>-health}), the node runs {@code ha-<id>-cluster} (seed retries) and
 * {@code ha-<id>-discovery}, and the leader election's {@code ha-<id>-election},
 * {@code ha-<id>-lease} and {@code ha-<id>-leader-listeners}. All are daemons and stop in
 * {@link #close()}.
 *
 * <p>Leadership ({@link #isLeader()}, {@link #leader()}, {@link #onLeaderChange},
 * {@link #awaitLeader}): the lowest live id that may lead ({@code JobSettings.RunScheduler}),
 * holding the database lease when a router is configured; see docs/election.md. The election
 * starts once the node has joined, and {@link #close()} releases the lease before leaving.
 */
public final class ClusterNode implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);

    private final ClusterNodeBuilder options;
    private final HaConfig config;
    private final ClusterSettings settings;

    private final Object lifecycle = new Object();
    private volatile LifecycleState state = LifecycleState.NEW;

    private String id;
    private String host;
    private volatile NodeMeta meta;
    private DatabaseRouter router;
    private volatile Messenger messenger;
    private GossipBestEffortChannel bestEffort;
    private volatile Memberlist memberlist;
    private HealthServer health;
    private ClusterDiscoveryService discovery;
    private ScheduledThreadPoolExecutor clusterThread;
    private Thread shutdownHook;
    private MembershipBridge bridge;
    private volatile Election election;
    /** With a database router only: jobs need the master database. */
    private volatile JobServer jobServer;
    private volatile io.hacluster.security.ClusterKeyring keyring;
    /** Leader listeners, also those added before start; the election reads this list. */
    private final List<Consumer<LeaderChange>> leaderListeners = new CopyOnWriteArrayList<>();
    /** Completes when close() has finished; a second closer waits for it. */
    private final CompletableFuture<Void> closeDone = new CompletableFuture<>();
    private volatile Thread closer;
    private List<InetSocketAddress> staticSeeds = List.of();
    private volatile SeedJoiner joiner;
    private volatile boolean halted;
    /** Handlers registered before start, handed to the messenger when it is created. */
    private final Map<String, MessageHandler> earlyHandlers = new LinkedHashMap<>();
    /** Configuration reload and connection recycling, here and cluster-wide; set in start. */
    private volatile NodeOperations operations;

    ClusterNode(ClusterNodeBuilder options, HaConfig config) {
        this.options = options;
        this.config = config;
        this.settings = config.clusterSettings();
    }

    /** A builder; see {@link ClusterNodeBuilder}. */
    public static ClusterNodeBuilder builder() {
        return new ClusterNodeBuilder();
    }

    /** Shortcut for {@code builder().configFile(file, environment).build()}. */
    public static ClusterNode fromConfigFile(Path file, Map<String, String> environment) {
        return builder().configFile(file, environment).build();
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * Starts the node and joins the cluster. Returns once the node is a member (possibly alone:
     * a failed initial join is logged, and discovery keeps trying).
     *
     * @throws ClusterStartException when a port cannot be bound, the database or the discovery
     *     table cannot be reached, or the advertised host cannot be resolved; everything opened is
     *     closed again and the node is CLOSED
     * @throws IllegalStateException when already started or closed
     */
    public void start() {
        synchronized (lifecycle) {
            if (state != LifecycleState.NEW) {
                throw new IllegalStateException("node is " + state + "; a node starts once");
            }
            state = LifecycleState.STARTING;
            try {
                doStart();
                state = LifecycleState.RUNNING;
                installShutdownHook();
            } catch (RuntimeException e) {
                LOG.warn("node {} failed to start: {}", id, e.getMessage());
                stopAll();
                state = LifecycleState.CLOSED;
                closeDone.complete(null);
                throw e instanceof ClusterStartException ? e
                        : new ClusterStartException("node failed to start: " + e.getMessage(), e);
            }
        }
        LOG.info("node {} started: gossip {}, streaming {}, {} members", id, memberlist.advertiseAddress(),
                messenger.localAddress(), memberlist.numMembers());
    }

    private void doStart() {
        id = settings.nodeIdFile().isBlank() ? NodeId.generate() : NodeId.loadOrCreate(Path.of(settings.nodeIdFile()));
        host = AdvertisedHost.resolve(settings.overrideHostname(), settings.useIpAddress(),
                settings.advertiseAddress(), settings.networkInterface(), options.hostEnvironment);
        InetAddress advertisedIp = resolve(host);
        String bindHost = settings.bindAddress().isBlank() ? "0.0.0.0" : settings.bindAddress();
        staticSeeds = settings.seeds().isEmpty() ? List.of() : settings.seedAddresses();

        SqlSettings sql = config.sqlSettings();
        if (!sql.dataSource().isBlank()) {
            try {
                router = DatabaseRouter.start(RouterSettingsMapper.map(sql, id, options.databasePoolMetrics));
            } catch (java.sql.SQLException e) {
                throw new ClusterStartException("cannot start the database router (SQLState " + e.getSQLState()
                        + "): " + e.getMessage(), e);
            }
        }

        ConnectionSource leaseDb = router == null ? null
                : options.leaseConnections != null ? options.leaseConnections : router::master;
        election = new Election(id, settings.clusterName(), config.jobSettings().runScheduler(),
                options.effectiveElectionQuorum(config), options.effectiveLeaseSettings(config), leaseDb,
                this::sendElectionMessage, leaderListeners, options.clock);
        if (router != null) {
            try {
                election.prepare();
            } catch (java.sql.SQLException e) {
                throw new ClusterStartException("cannot prepare the leader lease (SQLState " + e.getSQLState()
                        + "): " + e.getMessage(), e);
            }
            JobServer jobs = new JobServer(id, settings.clusterName(), router::master, config.jobSettings().runJobs(),
                    options.jobServerSettings, this::leaseTokenWhileLeading,
                    config.jobSettings().cleanupJobsThresholdDays(), this::announceJobSubmitted);
            try {
                jobs.prepare();
            } catch (java.sql.SQLException e) {
                throw new ClusterStartException("cannot prepare the job tables (SQLState " + e.getSQLState()
                        + "): " + e.getMessage(), e);
            }
            jobServer = jobs;
        }

        operations = new NodeOperations(id, new ConfigReloader(id, config,
                options.config != null ? options.configFile : null, options.configEnvironment, router,
                this::configHash, this::announceReloadedHash), router);

        clusterThread = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "ha-" + id + "-cluster");
            t.setDaemon(true);
            return t;
        });
        clusterThread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);

        io.hacluster.gossip.Keyring gossipKeys;
        ConnectionSource keyDb = options.discoveryConnections != null ? options.discoveryConnections
                : router != null ? router::master : null;
        try {
            gossipKeys = io.hacluster.security.GossipEncryption.keyringFor(settings, keyDb, id);
        } catch (java.sql.SQLException e) {
            throw new ClusterStartException("cannot read the gossip key from the database (SQLState "
                    + e.getSQLState() + "): " + e.getMessage(), e);
        }
        GossipConfig gossipConfig = options.gossipTuning.apply(GossipConfig
                .preset(settings.gossipPreset().isBlank() ? "lan" : settings.gossipPreset(), id).toBuilder()
                .bindHost(bindHost)
                .bindPort(settings.gossipPort())
                .advertiseHost(advertisedIp.getHostAddress())
                .advertisePort(settings.gossipPort())
                .enableCompression(settings.enableGossipCompression())
                .keyring(gossipKeys)
                .gossipVerifyIncoming(settings.gossipVerifyIncoming())
                .gossipVerifyOutgoing(settings.gossipVerifyOutgoing())
                .fastCrashDetection(settings.enableFastCrashDetection()))
                .build();

        bestEffort = new GossipBestEffortChannel(gossipConfig.udpBufferSize());
        MessengerConfig messengerConfig = options.messagingTuning.apply(StreamSecurityMapper.apply(settings,
                        streamKeys(options.streamKeys, gossipKeys), MessengerConfig.builder(id, settings.clusterName()))
                .bindAddress(new InetSocketAddress(bindHost, settings.streamingPort()))
                .maxFrameSize(settings.maxMessageSizeBytes())
                .compressionEnabled(settings.enableGossipCompression())
                .maxPendingPerPeer(settings.peerQueueSize())
                .sendTimeout(options.sendTimeout)
                .drainTimeout(options.drainTimeout))
                .build();
        Messenger created = new Messenger(messengerConfig, bestEffort);
        created.configureClockSampling(options.clock, options.clockSampleInterval);
        synchronized (earlyHandlers) {
            earlyHandlers.forEach(created::registerHandler);
            earlyHandlers.clear();
            Election e = election;
            created.registerHandler(Election.EVENT, in -> e.receive(in.senderId(), in.data()));
            JobServer jobs = jobServer;
            if (jobs != null) {
                created.registerHandler(JobServer.WAKE_EVENT, in -> jobs.wake());
            }
            operations.registerOn(created);
            if (gossipConfig.keyring() != null) {
                io.hacluster.security.ClusterKeyring k = new io.hacluster.security.ClusterKeyring(id,
                        gossipConfig.keyring(), this::gather, options.sendTimeout,
                        settings.gossipEncryptionKey().isEmpty() && keyDb != null
                                ? new io.hacluster.security.GossipKeyStore(keyDb, settings.clusterName())::replace
                                : null);
                created.registerHandler(io.hacluster.security.ClusterKeyring.EVENT, k::handle);
                keyring = k;
            }
            messenger = created;
        }
        InetSocketAddress streaming = messenger.start();

        meta = new NodeMeta(settings.clusterName(), id, options.version, options.schemaVersion, config.hash(),
                host, streaming.getPort(), config.jobSettings().runScheduler());
        byte[] metaBytes = meta.encode();  // fails clearly before any gossip when it is too large

        bridge = new MembershipBridge(id, () -> messenger, election);
        FaultInjectingTransport transport = FaultInjectingTransport.wrap(NettyTransport.bind(NettyTransportConfig
                .of(id, new InetSocketAddress(bindHost, settings.gossipPort()))
                .withAdvertiseAddress(new InetSocketAddress(advertisedIp, settings.gossipPort()))));
        gossipFaults = transport;  // idle unless a test or drill sets a fault: one volatile read per packet
        try {
            memberlist = Memberlist.builder(gossipConfig)
                    .transport(transport)
                    .metadataProvider(limit -> metaBytes)
                    .aliveFilter(this::acceptMember)
                    .membershipListener(bridge)
                    .messageListener(payload -> messenger.receiveBestEffort(payload))
                    .build();
        } catch (RuntimeException e) {
            transport.close();
            throw e;
        }
        bestEffort.attach(memberlist);
        messenger.onAbruptPeerLoss(new CrashEvidence(id, () -> memberlist)::connectionEnded);
        ConnectionSource discoveryDb = options.discoveryConnections != null ? options.discoveryConnections
                : router != null ? router::master : null;
        joiner = new SeedJoiner(id, memberlist, staticSeeds, options.joinTimeout, discoveryDb != null,
                () -> state == LifecycleState.RUNNING);

        if (settings.healthPort() > 0) {
            health = new HealthServer(new InetSocketAddress(bindHost, settings.healthPort()), healthSource(),
                    "ha-" + id + "-health", StreamSecurityMapper.healthLimits(settings));
            health.start();
        }

        List<InetSocketAddress> seeds = new ArrayList<>(staticSeeds);
        if (discoveryDb != null) {
            discovery = ClusterDiscoveryService.usingDatabaseTime(discoveryDb, new DiscoverySettings(options.discoveryType,
                    settings.clusterName(), host, settings.gossipPort(), streaming.getPort(),
                    Duration.ofSeconds(settings.discoveryIntervalSeconds()),
                    Duration.ofSeconds(settings.discoveryOfflineAfterSeconds())),
                    id, this::onDiscoveryRows, "ha-" + id + "-discovery");
            try {
                for (DiscoveryRow row : discovery.start()) {
                    seeds.add(InetSocketAddress.createUnresolved(row.hostname(), row.gossipPort()));
                }
            } catch (java.sql.SQLException e) {
                throw new ClusterStartException("cannot register in the ClusterDiscovery table (SQLState "
                        + e.getSQLState() + "): " + e.getMessage(), e);
            }
        }
        if (!staticSeeds.isEmpty()) {
            long every = settings.discoveryIntervalSeconds() * 1000L;
            clusterThread.scheduleWithFixedDelay(joiner::retryStaticSeedsWhenAlone, every, every, TimeUnit.MILLISECONDS);
        }
        joiner.joinAndWait(seeds);
        election.start();  // after the join: a node alone for a moment must not declare itself first
        JobServer jobs = jobServer;
        if (jobs != null) {
            jobs.start();
        }
    }

    /** The job server's view of leadership: the lease token while this node leads with the lease. */
    private java.util.OptionalLong leaseTokenWhileLeading() {
        Election e = election;
        if (e == null || state != LifecycleState.RUNNING || !e.isLeader()) {
            return java.util.OptionalLong.empty();
        }
        return e.leader().map(l -> java.util.OptionalLong.of(l.fencingToken())).orElse(java.util.OptionalLong.empty());
    }

    /** Wakes the other nodes' workers after a submit here; best effort, the poll covers a loss. */
    private void announceJobSubmitted() {
        Messenger m = messenger;
        if (m != null && state == LifecycleState.RUNNING) {
            m.send(ClusterMessage.bestEffort(JobServer.WAKE_EVENT, new byte[0]), liveOthers());
        }
    }

    /**
     * The election's sender: one reliable message, completing once the target handled it (a
     * leaving leader waits for its RESIGN); never blocks the election thread.
     */
    private CompletableFuture<SendResult> sendElectionMessage(String target, byte[] payload) {
        Messenger m = messenger;
        if (m == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("no messenger"));
        }
        return m.sendTo(target, ClusterMessage.reliable(Election.EVENT, payload).waitingForAll(true));
    }

    private static InetAddress resolve(String host) {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new ClusterStartException("the advertised host '" + host + "' does not resolve", e);
        }
    }

    /** Discovery thread: join the fresh rows that gossip does not know as live members. */
    private void onDiscoveryRows(List<DiscoveryRow> rows) {
        SeedJoiner j = joiner;
        if (j != null) {
            j.onDiscoveryRows(rows);
        }
    }

    /** Gossip thread: keep other clusters' nodes and non-ha-cluster peers out of the view. */
    private boolean acceptMember(Member candidate) {
        byte[] bytes = candidate.meta();
        if (!NodeMeta.isNodeMeta(bytes)) {
            return false;
        }
        try {
            return NodeMeta.decode(bytes).clusterName().equals(settings.clusterName());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private void installShutdownHook() {
        if (!options.shutdownHook) {
            return;
        }
        Thread hook = new Thread(this::close, "ha-" + id + "-shutdown");
        try {
            Runtime.getRuntime().addShutdownHook(hook);
            shutdownHook = hook;
        } catch (IllegalStateException jvmShuttingDown) {
            LOG.warn("node {}: the JVM is already shutting down; no shutdown hook installed", id);
        }
    }

    private void removeShutdownHook() {
        Thread hook = shutdownHook;
        if (hook == null || Thread.currentThread() == hook) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is already running its hooks
        }
    }

    /**
     * Leaves the cluster and stops everything, in this order: the health endpoint answers 503
     * from the first moment (for {@code healthDrain} before anything else happens); the
     * discovery row is deleted; the messenger drains (no new sends; handlers that have messages
     * finish and everything handled is acknowledged, bounded by {@code drainTimeout}); gossip
     * broadcasts a graceful leave (bounded by {@code leaveTimeout}), so peers fail what this node
     * did not acknowledge with {@link io.hacluster.messaging.PeerUnavailableException}; then the
     * messenger fails what is still pending with a clear exception. Idempotent; never throws.
     */
    @Override
    public void close() {
        boolean first;
        synchronized (lifecycle) {
            first = state != LifecycleState.CLOSED && state != LifecycleState.CLOSING;
            if (state == LifecycleState.NEW) {
                state = LifecycleState.CLOSED;
                closeDone.complete(null);
                return;
            }
            if (first) {
                state = LifecycleState.CLOSING;
                closer = Thread.currentThread();
            }
        }
        if (!first) {
            awaitOtherCloser();  // outside the lock: the first closer needs it to finish
            return;
        }
        try {
            closeOnce();
        } finally {
            closeDone.complete(null);
        }
    }

    /**
     * Another thread is closing (an application's shutdown beside the node's hook): wait until it
     * is done, so the caller does not tear down what handlers still use; bounded by what close
     * itself is bounded by.
     */
    private void awaitOtherCloser() {
        if (Thread.currentThread() == closer) {
            return;  // close() called again from inside close(), e.g. by a listener
        }
        long bound = options.healthDrain.plus(options.drainTimeout).plus(options.leaveTimeout).plusSeconds(30).toMillis();
        try {
            closeDone.get(bound, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("node {}: the other close() did not finish within {} ms", id, bound);
        }
    }

    private void closeOnce() {
        removeShutdownHook();
        if (!options.healthDrain.isZero() && health != null) {
            try {
                Thread.sleep(options.healthDrain.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (lifecycle) {
            stopAll();
            state = LifecycleState.CLOSED;
        }
        LOG.info("node {} closed", id);
    }

    /**
     * Simulates a crash, for tests: gossip and messaging stop at once, without a leave
     * broadcast and without deleting the discovery row, so peers must detect the failure.
     * {@link #close()} still cleans up afterwards.
     */
    void haltForTests() {
        halt();
    }

    /**
     * Crashes this node on purpose, for tests and drills (ha-cluster-testkit's
     * {@code TestCluster.crash}): gossip and streams stop at once with their sockets closed, with
     * no leave broadcast, no drain and no lease release, and the discovery row stays, so peers see
     * what a {@code kill -9} shows them and must detect the failure. The node is not usable
     * afterwards; {@link #close()} still releases what is left (threads, health endpoint, pools)
     * and frees its ports, so a new node can start under the same id and ports.
     */
    public void halt() {
        halted = true;
        JobServer jobs = jobServer;
        if (jobs != null) {
            jobs.halt();  // a crashed worker neither heartbeats nor hands its jobs back
        }
        Election e = election;
        if (e != null) {
            e.halt();  // a crashed leader neither renews nor releases its lease
        }
        Memberlist ml = memberlist;
        if (ml != null) {
            ml.shutdown();
        }
        Messenger m = messenger;
        if (m != null) {
            m.closeAbruptly();
        }
    }

    private void stopAll() {
        JobServer jobs = jobServer;
        if (jobs != null) {
            quietly("job server", jobs::close);  // running jobs finish or go back to pending, under the lease still
        }
        Election e = election;
        if (e != null) {
            quietly("election", e::close);  // first: the lease is free before peers see this node leave
        }
        if (discovery != null) {
            quietly("discovery", discovery::close);
        }
        Memberlist ml = memberlist;
        if (messenger != null && !halted) {
            quietly("messenger drain", messenger::drain);
        }
        if (ml != null && !halted) {
            quietly("gossip leave", () -> ml.leave(options.leaveTimeout)
                    .get(options.leaveTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS));
            quietly("gossip", ml::shutdown);
        }
        if (clusterThread != null) {
            clusterThread.shutdownNow();
        }
        if (messenger != null) {
            quietly("messenger", messenger::close);
        }
        if (health != null) {
            quietly("health endpoint", health::close);
        }
        NodeOperations ops = operations;
        if (ops != null) {
            quietly("operations", ops::close);  // before the router: a reload in progress finishes first
        }
        if (router != null) {
            quietly("database router", router::close);
        }
        if (clusterThread != null) {
            quietly("cluster thread", () -> clusterThread.awaitTermination(5, TimeUnit.SECONDS));
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private void quietly(String what, Step step) {
        try {
            step.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("node {}: stopping {} failed: {}", id, what, e.toString());
        }
    }

    // ---------------------------------------------------------------- identity and status

    /** The cluster's name ({@code ClusterSettings.ClusterName}). */
    public String clusterName() {
        return settings.clusterName();
    }

    /** This node's 26-character id; null before {@link #start()}. */
    public String id() {
        return id;
    }

    /** Lifecycle state. */
    public LifecycleState state() {
        return state;
    }

    /** The advertised host (OverrideHostname, AdvertiseAddress, interface address or host name). */
    public String hostname() {
        return host;
    }

    /** Where peers reach this node's gossip. */
    public InetSocketAddress gossipAddress() {
        return running().advertiseAddress();
    }

    /** The bound StreamingPort address. */
    public InetSocketAddress streamingAddress() {
        running();
        return messenger.localAddress();
    }

    /** The health endpoint's bound address, when HealthPort &gt; 0. */
    public Optional<InetSocketAddress> healthAddress() {
        return Optional.ofNullable(health).map(HealthServer::address);
    }

    /**
     * Every gossip member this node knows, itself included, sorted by id: alive and suspect ones,
     * and dead or departed ones until gossip forgets them. The messenger already knows every state
     * shown here (it is told first), so the alive and suspect members are exactly the nodes
     * {@link #send} addresses at this moment.
     */
    public List<ClusterMember> members() {
        Memberlist ml = running();
        return ml.members().stream()
                .map(m -> new ClusterMember(m.name(), m.address(), MembershipState.of(m.state()), m.incarnation(),
                        m.name().equals(id)))
                .sorted(java.util.Comparator.comparing(ClusterMember::id))
                .toList();
    }

    /**
     * The other alive and suspect members as of the latest membership event: the targets of a
     * broadcast, kept by the membership bridge a moment before {@link #members()} shows the event.
     */
    private List<String> liveOthers() {
        running();
        return bridge.liveTargets();
    }

    /**
     * Every node of the cluster with its status (Mattermost's {@code GetClusterInfos}), sorted
     * by id: alive and suspect nodes, and dead ones until gossip forgets them (RED,
     * UNREACHABLE); nodes that left gracefully are not listed. Each entry carries its clock
     * offset from this node's clock ({@link ClusterInfo#clock()}), and a node whose clock is off
     * by more than {@code MaxClockSkewMilliseconds} is RED with CLOCK_SKEW (docs/cluster-node.md).
     */
    public List<ClusterInfo> clusterInfos() {
        Memberlist ml = running();
        List<PeerView> views = new ArrayList<>();
        for (Member m : ml.members()) {
            if (m.state() == MemberState.LEFT) {
                continue;
            }
            byte[] bytes = m.name().equals(id) ? meta.encode() : m.meta();
            NodeMeta decoded;
            try {
                decoded = NodeMeta.decode(bytes);
            } catch (IllegalArgumentException e) {
                continue;  // not one of ours; the alive filter normally keeps such members out
            }
            views.add(new PeerView(decoded, m.address().getAddress().getHostAddress(),
                    m.name().equals(id) || m.state() == MemberState.ALIVE));
        }
        Map<String, ClockOffset> clocks = new java.util.HashMap<>(messenger.clockOffsets());
        clocks.put(id, ClockOffset.local(options.clock.millis()));
        return ClusterStatusEvaluator.evaluate(views, clocks, settings.maxClockSkewMilliseconds());
    }

    /** This node's own entry of {@link #clusterInfos()} (Mattermost's {@code GetMyClusterInfo}). */
    public ClusterInfo localInfo() {
        return clusterInfos().stream().filter(i -> i.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalStateException("local node missing from its own view"));
    }

    /** Lifeguard's health score: 0 is healthy, higher is worse (Mattermost's {@code HealthScore()}). */
    public int healthScore() {
        return running().healthScore();
    }

    /** Gossip's traffic and drop counters since start (for metrics). */
    public io.hacluster.gossip.GossipStats gossipStats() {
        return running().stats();
    }

    /** This node's health; safe in any state. */
    public NodeHealth health() {
        LifecycleState s = state;
        Memberlist ml = memberlist;
        if (s != LifecycleState.RUNNING || ml == null) {
            return new NodeHealth(s, false, -1, 0, 0, 0);
        }
        List<Member> all = ml.members();
        int alive = (int) all.stream().filter(m -> m.state() == MemberState.ALIVE).count();
        int suspect = (int) all.stream().filter(m -> m.state() == MemberState.SUSPECT).count();
        int red = (int) clusterInfos().stream().filter(i -> i.status() == NodeStatus.RED).count();
        return new NodeHealth(s, true, ml.healthScore(), alive, suspect, red);
    }

    /**
     * This node seen by a health endpoint: healthy while RUNNING. Hand it to a
     * {@link HealthServer} the application runs itself to keep answering 503 after close.
     */
    public HealthSource healthSource() {
        return new NodeHealthSource(this, options.metricsScrape);
    }

    /** For {@link NodeHealthSource}: the election's status, or null before start. */
    Map<String, Object> electionStatus() {
        Election e = election;
        return e == null ? null : e.status();
    }

    /**
     * Tells {@code listener} how long each lease renewal took, in nanoseconds (metrics; see
     * {@link Election#onLeaseRenewLatency}). After {@link #start()}.
     */
    public void onLeaseRenewLatency(java.util.function.LongConsumer listener) {
        Election e = election;
        if (e == null) {
            throw new IllegalStateException("node is " + state + "; start it first");
        }
        e.onLeaseRenewLatency(listener);
    }

    /** For {@link NodeHealthSource}: the job server, or null without a database. */
    JobServer jobServerOrNull() {
        return jobServer;
    }

    // ---------------------------------------------------------------- leadership

    /**
     * Whether this node is the cluster leader now: the lowest live node id that may lead
     * ({@code JobSettings.RunScheduler}), with the quorum (if configured) met and, when a database
     * router is configured, holding the lease before its renew deadline on this node's monotonic
     * clock. False in every state but RUNNING. Cheap; call it before each leader-only action, and
     * fence the writes that matter with {@link LeaderInfo#fencingToken()} (docs/election.md).
     */
    public boolean isLeader() {
        Election e = election;
        return e != null && state == LifecycleState.RUNNING && e.isLeader();
    }

    /**
     * The leader as this node knows it: id, epoch, fencing token (0 without a database) and
     * since when (the leader's wall clock, for display). Empty while there is none: between a
     * leader's crash and the next COORDINATOR, on a side without quorum, or on this node once its
     * lease is lost.
     */
    public Optional<LeaderInfo> leader() {
        Election e = election;
        return e == null || state != LifecycleState.RUNNING ? Optional.empty() : e.leader();
    }

    /**
     * Adds a listener told of every change of the leader or of this node's leadership, with the
     * cause. Listeners run on {@code ha-<id>-leader-listeners}, one at a time and in order, never
     * on an I/O thread and never under the election's locks; a slow listener delays only later
     * notifications. May be called before {@link #start()}.
     */
    public void onLeaderChange(Consumer<LeaderChange> listener) {
        leaderListeners.add(java.util.Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Waits until a leader is known, at most {@code timeout}; empty when none became known in time.
     *
     * @throws InterruptedException when interrupted while waiting
     */
    public Optional<LeaderInfo> awaitLeader(Duration timeout) throws InterruptedException {
        Election e = election;
        if (e == null) {
            throw new IllegalStateException("node is " + state + "; start it first");
        }
        return e.awaitLeader(timeout);
    }

    /**
     * The job server: periodic jobs the leader schedules and one-off jobs, durable in the master
     * database, run by workers on every node with {@code JobSettings.RunJobs} (docs/jobs.md).
     *
     * @throws IllegalStateException before {@link #start()}, or without a database router (jobs
     *     live in the master database: configure {@code SqlSettings.DataSource})
     */
    public JobServer jobs() {
        JobServer jobs = jobServer;
        if (jobs == null) {
            if (state == LifecycleState.NEW || state == LifecycleState.STARTING) {
                throw new IllegalStateException("node is " + state + "; start it first");
            }
            throw new IllegalStateException("the job server needs a database: configure SqlSettings.DataSource");
        }
        return jobs;
    }

    /** The database router, when SqlSettings has a DataSource. */
    public Optional<DatabaseRouter> database() {
        return Optional.ofNullable(router);
    }

    // ---------------------------------------------------------------- configuration changes

    /**
     * Announces a new config hash to the cluster (after this node's configuration changed): the
     * node meta is re-advertised, and nodes whose hash differs from the cluster's show RED with
     * CONFIG_HASH_MISMATCH on every node until they agree again.
     *
     * @return completes once gossip has sent the update its full number of times
     */
    public CompletableFuture<Void> announceConfigHash(String configHash) {
        Memberlist ml = running();
        NodeMeta updated;
        synchronized (lifecycle) {
            updated = meta.withConfigHash(configHash);
            byte[] bytes = updated.encode();
            meta = updated;
            return ml.updateMeta(bytes, Duration.ofSeconds(10));
        }
    }

    /** The reloader's announcement: skipped, not failed, when the node is closing meanwhile. */
    private void announceReloadedHash(String hash) {
        if (state != LifecycleState.RUNNING) {
            LOG.info("node {}: not announcing config hash {}: the node is {}", id, hash, state);
            return;
        }
        announceConfigHash(hash);
    }

    /** {@link #announceConfigHash} with the hash of {@code newConfig}. */
    public CompletableFuture<Void> configChanged(HaConfig newConfig) {
        return announceConfigHash(newConfig.hash());
    }

    /** The config hash this node currently advertises. */
    public String configHash() {
        return meta == null ? config.hash() : meta.configHash();
    }

    /**
     * The configuration in force: the one the node was built with, or the last one
     * {@link #reloadConfig()} applied (settings that wait for a restart keep their running values).
     * An application reads its own sections here ({@link HaConfig#otherSections()}) after a reload.
     */
    public HaConfig config() {
        NodeOperations ops = operations;
        return ops == null ? config : ops.reloader().inForce();
    }

    /**
     * Reads the node's configuration file again (the one given to
     * {@link ClusterNodeBuilder#configFile}, with the same {@code HA_} environment overrides),
     * validates it and applies what can change live: SqlSettings through the database router's
     * reload (a new master, replica or search replica list, pool sizes, timeouts and lag limits take
     * effect for new borrows at once; borrowed connections finish on the old pools) and
     * {@code ClusterSettings.ReadOnlyConfig}. Settings that need a restart are listed and left
     * entirely as they were; if the router refuses the new SqlSettings (a new master that is still a
     * standby, say) nothing is applied. When the configuration in force changes its hash, the new
     * hash is announced (gossip meta). Runs one reload at a time. See docs/operations.md.
     *
     * @return what changed and what was done with each change; a file that cannot be read or is
     *     invalid is a result with {@link ConfigReloadResult#error()} set, not an exception
     * @throws IllegalStateException if the node is not running, or was built without a
     *     configuration file (use {@link #reloadConfig(HaConfig)})
     */
    public ConfigReloadResult reloadConfig() {
        running();
        return requireOperations().reloader().reloadFile();
    }

    /**
     * {@link #reloadConfig()} with a configuration the application loaded or built itself,
     * for a node built without a file (or to apply a configuration from elsewhere).
     *
     * @throws IllegalStateException if the node is not running
     */
    public ConfigReloadResult reloadConfig(HaConfig newConfig) {
        running();
        return requireOperations().reloader().apply(java.util.Objects.requireNonNull(newConfig, "newConfig"));
    }

    /**
     * Mattermost's "recycle database connections": every pool of the database router is
     * soft-evicted, so idle connections are closed at once and borrowed ones when they are given
     * back (in-flight work finishes on them), and new connections are opened on demand.
     *
     * @throws IllegalStateException if the node is not running or has no database
     */
    public ConnectionRecycleResult recycleDatabaseConnections() {
        running();
        return requireOperations().recycle();
    }

    /**
     * {@link #reloadConfig()} on every node: this node asks every live member, itself included,
     * over the reliable channel (a request on a reserved event, as Mattermost's mmctl asks through
     * a cluster message) and gathers each node's result. Each node reloads its own file. A node
     * that does not answer within {@code timeout} (capped at the send timeout), dies or leaves
     * meanwhile, runs a version without the operation, or was built without a file, has a failure
     * entry instead of a result. The future always completes normally.
     */
    public CompletableFuture<ClusterWide<ConfigReloadResult>> reloadConfigEverywhere(Duration timeout) {
        running();
        return requireOperations().reloadEverywhere(this::gather, timeout);
    }

    /** {@link #recycleDatabaseConnections()} on every node; as {@link #reloadConfigEverywhere}. */
    public CompletableFuture<ClusterWide<ConnectionRecycleResult>> recycleDatabaseConnectionsEverywhere(
            Duration timeout) {
        running();
        return requireOperations().recycleEverywhere(this::gather, timeout);
    }

    private NodeOperations requireOperations() {
        NodeOperations ops = operations;
        if (ops == null) {
            throw new IllegalStateException("node is " + state + "; start it first");
        }
        return ops;
    }

    // ---------------------------------------------------------------- messaging

    /**
     * The keys of the keyed stream HELLO: the builder's, else the gossip keyring's (live, so a
     * rotation reaches the next handshake), else none. Gossip encryption on therefore always
     * means authenticated streams (docs/security.md).
     */
    private static io.hacluster.messaging.StreamKeys streamKeys(io.hacluster.messaging.StreamKeys configured,
                                                               io.hacluster.gossip.Keyring gossipKeys) {
        if (configured != null || gossipKeys == null) {
            return configured;
        }
        return new io.hacluster.messaging.StreamKeys() {
            @Override
            public List<byte[]> keys() {
                return gossipKeys.keys();
            }

            @Override
            public String toString() {
                return "StreamKeys[gossip keyring]";
            }
        };
    }

    /**
     * Registers the handler for {@code event}; a later registration replaces an earlier one.
     * Handlers may be registered before {@link #start()}, so no message finds its event
     * unhandled right after joining (Mattermost registers its handlers before it joins too).
     */
    public void registerHandler(String event, MessageHandler handler) {
        java.util.Objects.requireNonNull(event, "event");
        java.util.Objects.requireNonNull(handler, "handler");
        if (event.equals(Election.EVENT) || event.equals(JobServer.WAKE_EVENT) || NodeOperations.isReserved(event)
                || event.equals(io.hacluster.security.ClusterKeyring.EVENT)) {
            throw new IllegalArgumentException("the event " + event + " is reserved for the library");
        }
        synchronized (earlyHandlers) {
            if (messenger == null) {
                earlyHandlers.put(event, handler);
                return;
            }
        }
        messenger.registerHandler(event, handler);
    }

    /** Removes the handler for {@code event}, if any. */
    public void unregisterHandler(String event) {
        synchronized (earlyHandlers) {
            if (messenger == null) {
                earlyHandlers.remove(event);
                return;
            }
        }
        messenger.unregisterHandler(event);
    }

    /**
     * Broadcasts to every other node (Mattermost's {@code SendClusterMessage}): the targets are
     * exactly the other alive and suspect members that {@link #members()} shows at the moment of
     * the call. The result says which acknowledged (reliable with {@code waitForAllToSend}), which
     * merely got it queued, and with no other node it says there was no target; a failure for any
     * target fails the future with a {@link io.hacluster.messaging.SendFailedException} holding
     * each target's cause. Never pending longer than the send timeout.
     */
    public CompletableFuture<SendResult> send(ClusterMessage message) {
        Messenger m = requireMessenger();
        return m.send(message, liveOthers());
    }

    /**
     * Sends to one node (Mattermost's {@code SendClusterMessageToNode}); a node that
     * {@link #members()} does not show alive or suspect fails at once with
     * {@link io.hacluster.messaging.PeerUnavailableException}. See {@link Messenger#sendTo}.
     */
    public CompletableFuture<SendResult> sendTo(String nodeId, ClusterMessage message) {
        Messenger m = requireMessenger();
        if (!nodeId.equals(id) && !liveOthers().contains(nodeId)) {
            Member target = running().member(nodeId);
            return CompletableFuture.failedFuture(new io.hacluster.messaging.PeerUnavailableException(nodeId,
                    "node " + nodeId + (target == null ? " is not a member" : " is " + target.state())));
        }
        return m.sendTo(nodeId, message);
    }

    /** Asks one node and returns its reply; see {@link Messenger#request}. */
    public CompletableFuture<byte[]> request(String nodeId, String event, byte[] data, Duration timeout) {
        return requireMessenger().request(nodeId, event, data, timeout);
    }

    /**
     * Asks every live node, this one included, and collects each reply or error by node id; a
     * node that dies or stays silent yields an error entry after at most {@code timeout}.
     */
    public CompletableFuture<Map<String, NodeReply>> gather(String event, byte[] data, Duration timeout) {
        Messenger m = requireMessenger();
        List<String> targets = new ArrayList<>(liveOthers());
        targets.add(id);
        return m.gather(event, data, timeout, targets);
    }

    /**
     * Cluster-wide gossip key rotation (serf's {@code keys}): install, use, remove and list keys on
     * every live node. See docs/security.md.
     *
     * @throws IllegalStateException when gossip encryption is off or the node is not started
     */
    public io.hacluster.security.ClusterKeyring keyring() {
        io.hacluster.security.ClusterKeyring k = keyring;
        if (k == null) {
            throw new IllegalStateException(messenger == null ? "node is " + state + "; start it first"
                    : "gossip encryption is off (ClusterSettings.EnableExperimentalGossipEncryption)");
        }
        return k;
    }

    /** Fault injection on this node's streaming connections, for tests and drills. */
    public StreamFaults streamFaults() {
        return requireMessenger().faults();
    }

    private volatile GossipFaults gossipFaults;

    /**
     * Fault injection on this node's gossip traffic, for tests and drills: with
     * {@link #streamFaults()} it cuts this node off from chosen peers (block the peer's
     * {@link #gossipAddress()} and cut its id) or from everyone. See {@link GossipFaults}.
     */
    public GossipFaults gossipFaults() {
        GossipFaults f = gossipFaults;
        if (f == null) {
            throw new IllegalStateException("node is " + state + "; start it first");
        }
        return f;
    }

    /** The messenger, for statistics and advanced use. */
    public Messenger messenger() {
        return requireMessenger();
    }

    private Messenger requireMessenger() {
        Messenger m = messenger;
        if (m == null) {
            throw new IllegalStateException("node is " + state + "; start it first");
        }
        return m;
    }

    private Memberlist running() {
        Memberlist ml = memberlist;
        if (state == LifecycleState.CLOSED) {
            throw new IllegalStateException("node is closed; a node starts once, build a new one");
        }
        if (ml == null) {
            throw new IllegalStateException("node is " + state + "; start it first");
        }
        return ml;
    }

    @Override
    public String toString() {
        return "ClusterNode[" + id + " " + state + " cluster=" + settings.clusterName() + "]";
    }
}
