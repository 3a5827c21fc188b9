package io.hacluster;

import io.hacluster.config.ClusterSettings;
import io.hacluster.config.HaConfig;
import io.hacluster.config.JobSettings;
import io.hacluster.config.SqlSettings;
import io.hacluster.discovery.ConnectionSource;
import io.hacluster.discovery.DiscoverySettings;
import io.hacluster.election.LeaseSettings;
import io.hacluster.gossip.GossipConfig;
import io.hacluster.identity.HostEnvironment;
import io.hacluster.messaging.MessengerConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * Configures a {@link ClusterNode}. Give the configuration either as a file
 * ({@link #configFile(Path, Map)}), as a loaded {@link HaConfig}, or as
 * {@link #clusterSettings(ClusterSettings)} plus optional {@link #sqlSettings(SqlSettings)};
 * everything else has a default.
 *
 * <pre>{@code
 * ClusterNode node = ClusterNode.builder()
 *         .configFile(Path.of("config.json"), System.getenv())
 *         .version("10.5.1").schemaVersion("128")
 *         .build();
 * node.start();
 * }</pre>
 */
public final class ClusterNodeBuilder {

    HaConfig config;
    /** The file {@link #config} was loaded from, for ClusterNode.reloadConfig(); null otherwise. */
    Path configFile;
    Map<String, String> configEnvironment = Map.of();
    ClusterSettings clusterSettings;
    SqlSettings sqlSettings;
    String version = "0.0.0";
    String schemaVersion = "";
    String discoveryType = DiscoverySettings.DEFAULT_TYPE;
    ConnectionSource discoveryConnections;
    HostEnvironment hostEnvironment = HostEnvironment.system();
    UnaryOperator<GossipConfig.Builder> gossipTuning = UnaryOperator.identity();
    UnaryOperator<MessengerConfig.Builder> messagingTuning = UnaryOperator.identity();
    Duration healthDrain = Duration.ZERO;
    Duration leaveTimeout = Duration.ofSeconds(5);
    Duration joinTimeout = Duration.ofSeconds(15);
    Duration sendTimeout = Duration.ofSeconds(30);
    Duration drainTimeout = Duration.ofSeconds(5);
    io.hacluster.jobs.JobServerSettings jobServerSettings = io.hacluster.jobs.JobServerSettings.defaults();
    java.util.function.Supplier<String> metricsScrape;
    boolean shutdownHook;
    JobSettings jobSettings;
    /** Set by {@link #leaseSettings}; null: from the configuration's JobSettings. */
    LeaseSettings leaseSettings;
    /** Set by {@link #electionQuorum}; null: from the configuration's JobSettings. */
    Integer electionQuorum;
    Clock clock = Clock.systemUTC();
    Duration clockSampleInterval = Duration.ofSeconds(1);
    com.zaxxer.hikari.metrics.MetricsTrackerFactory databasePoolMetrics;
    /** Cluster keys for the keyed stream HELLO; null: none (docs/security.md). */
    io.hacluster.messaging.StreamKeys streamKeys;
    /** For tests: the lease's connections instead of the router's master; null for the router. */
    ConnectionSource leaseConnections;

    ClusterNodeBuilder() {
    }

    /**
     * The cluster keys that authenticate the StreamingPort's HELLO (challenge-response HMAC, see
     * docs/security.md): normally the gossip keyring's keys, primary first. Null (the default): no
     * keyed HELLO; every node of a cluster needs keys, or none.
     */
    public ClusterNodeBuilder streamKeys(io.hacluster.messaging.StreamKeys keys) {
        this.streamKeys = keys;
        return this;
    }

    /**
     * Loads {@code file} with {@code HA_<SECTION>_<FIELD>} overrides from {@code environment}.
     * {@link ClusterNode#reloadConfig()} reads the same file again with the same environment.
     */
    public ClusterNodeBuilder configFile(Path file, Map<String, String> environment) {
        config(HaConfig.load(file, environment));
        this.configFile = file;
        this.configEnvironment = Map.copyOf(environment);
        return this;
    }

    /** A loaded configuration; its hash is the node's initial config hash. */
    public ClusterNodeBuilder config(HaConfig config) {
        this.config = Objects.requireNonNull(config);
        this.configFile = null;
        this.clusterSettings = null;
        this.sqlSettings = null;
        this.jobSettings = null;
        return this;
    }

    /** Cluster settings, used instead of a configuration file. */
    public ClusterNodeBuilder clusterSettings(ClusterSettings settings) {
        this.clusterSettings = Objects.requireNonNull(settings);
        this.config = null;
        this.configFile = null;
        return this;
    }

    /**
     * SQL settings; with a non-empty {@code DataSource} the node runs a
     * {@link io.hacluster.db.DatabaseRouter} ({@link ClusterNode#database()}) and registers in
     * the master's {@code ClusterDiscovery} table.
     */
    public ClusterNodeBuilder sqlSettings(SqlSettings settings) {
        this.sqlSettings = Objects.requireNonNull(settings);
        this.config = null;
        return this;
    }

    /**
     * JobSettings, with {@link #clusterSettings}: {@code RunScheduler} false means this node is
     * never elected leader. A {@link #config} carries its own.
     */
    public ClusterNodeBuilder jobSettings(JobSettings settings) {
        this.jobSettings = Objects.requireNonNull(settings);
        this.config = null;
        return this;
    }

    /**
     * Timing of the leader lease, used when a database router is configured. Without this call
     * the configuration's {@code JobSettings.LeaderLeaseMilliseconds},
     * {@code LeaderRenewDeadlineMilliseconds} and {@code LeaderRetryPeriodMilliseconds} apply
     * (from the file or their {@code HA_JOBSETTINGS_...} variables; 15 s, 10 s and 2 s by
     * default); with it, these settings win over the configuration, all three together
     * (docs/election.md). The configuration hash does not see them: give every node the same.
     */
    public ClusterNodeBuilder leaseSettings(LeaseSettings settings) {
        this.leaseSettings = Objects.requireNonNull(settings);
        return this;
    }

    /**
     * Minimum number of live members (this node included) for a leader, like Hazelcast's
     * split-brain protection: a side of a partition smaller than this has no leader. 0 for none:
     * without a database a partition can then give two leaders. Without this call the
     * configuration's {@code JobSettings.LeaderElectionQuorum} applies (default 0); with it, this
     * value wins.
     */
    public ClusterNodeBuilder electionQuorum(int members) {
        if (members < 0) {
            throw new IllegalArgumentException("electionQuorum must not be negative");
        }
        this.electionQuorum = members;
        return this;
    }

    /**
     * The wall clock this node reads, for tests and drills (say, a node whose clock is ten
     * minutes off); defaults to the system clock in UTC. ha-cluster reads wall time only for
     * display ({@code LeaderInfo.since()}) and to measure clock offsets between nodes (the
     * {@code CLOCK_SKEW} status): leadership is timed on the monotonic clock and the lease and
     * the discovery rows in database time, so no decision depends on this clock.
     */
    public ClusterNodeBuilder clock(Clock clock) {
        this.clock = Objects.requireNonNull(clock);
        return this;
    }

    /**
     * HikariCP's own meters for the router's pools: pass
     * {@code new com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory(registry)}
     * to get {@code hikaricp.connections.*} per pool in the same registry as
     * {@code io.hacluster.metrics.ClusterNodeMetrics} (docs/operations-metrics.md). Pools are
     * built at start, so this must be set before it.
     */
    public ClusterNodeBuilder databasePoolMetrics(com.zaxxer.hikari.metrics.MetricsTrackerFactory factory) {
        this.databasePoolMetrics = Objects.requireNonNull(factory, "factory");
        return this;
    }

    /**
     * How often each streaming connection samples its peer's clock offset (default 1 s); an
     * estimate uses the best of the last 8 samples. Shorter in tests, to see a change sooner.
     */
    public ClusterNodeBuilder clockSampleInterval(Duration interval) {
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("clockSampleInterval must be positive: " + interval);
        }
        this.clockSampleInterval = interval;
        return this;
    }

    /**
     * For tests: where the election's lease statements get their connections, instead of the
     * router's master (a source that fails, to cut one node off the lease database).
     */
    ClusterNodeBuilder leaseConnections(ConnectionSource connections) {
        this.leaseConnections = Objects.requireNonNull(connections);
        return this;
    }

    /** The lease timing: {@link #leaseSettings} if called, else the configuration's. */
    LeaseSettings effectiveLeaseSettings(HaConfig config) {
        if (leaseSettings != null) {
            return leaseSettings;
        }
        JobSettings j = config.jobSettings();  // validated by HaConfig: the rules of LeaseSettings hold
        return new LeaseSettings(Duration.ofMillis(j.leaderLeaseMilliseconds()),
                Duration.ofMillis(j.leaderRenewDeadlineMilliseconds()), Duration.ofMillis(j.leaderRetryPeriodMilliseconds()));
    }

    /** The quorum: {@link #electionQuorum} if called, else the configuration's. */
    int effectiveElectionQuorum(HaConfig config) {
        return electionQuorum != null ? electionQuorum : config.jobSettings().leaderElectionQuorum();
    }

    /** The application version peers compare (same major.minor is compatible). Default 0.0.0. */
    public ClusterNodeBuilder version(String version) {
        this.version = Objects.requireNonNull(version);
        return this;
    }

    /** The database schema version peers compare (must be equal). Default empty. */
    public ClusterNodeBuilder schemaVersion(String schemaVersion) {
        this.schemaVersion = Objects.requireNonNull(schemaVersion);
        return this;
    }

    /** The discovery row Type; default Mattermost's {@code mattermost_app}. */
    public ClusterNodeBuilder discoveryType(String type) {
        this.discoveryType = Objects.requireNonNull(type);
        return this;
    }

    /**
     * Where the discovery table lives, when not in the database of SqlSettings (or when there
     * are no SqlSettings). Without either, the node uses static seeds only.
     */
    public ClusterNodeBuilder discoveryConnections(ConnectionSource connections) {
        this.discoveryConnections = Objects.requireNonNull(connections);
        return this;
    }

    /** The interfaces and host name used to pick the advertised host; for tests. */
    public ClusterNodeBuilder hostEnvironment(HostEnvironment environment) {
        this.hostEnvironment = Objects.requireNonNull(environment);
        return this;
    }

    /** Adjusts the gossip configuration after the preset and ClusterSettings are applied. */
    public ClusterNodeBuilder gossipTuning(UnaryOperator<GossipConfig.Builder> tuning) {
        this.gossipTuning = Objects.requireNonNull(tuning);
        return this;
    }

    /** Adjusts the messenger configuration after ClusterSettings are applied. */
    public ClusterNodeBuilder messagingTuning(UnaryOperator<MessengerConfig.Builder> tuning) {
        this.messagingTuning = Objects.requireNonNull(tuning);
        return this;
    }

    /**
     * How long {@link ClusterNode#close()} keeps answering 503 on the health endpoint before it
     * leaves, so a load balancer takes the node out of rotation first. Default zero.
     */
    public ClusterNodeBuilder healthDrain(Duration drain) {
        if (drain.isNegative()) {
            throw new IllegalArgumentException("healthDrain must not be negative");
        }
        this.healthDrain = drain;
        return this;
    }

    /** Bound on the graceful leave broadcast in {@link ClusterNode#close()}. Default 5 s. */
    public ClusterNodeBuilder leaveTimeout(Duration timeout) {
        this.leaveTimeout = requirePositive(timeout, "leaveTimeout");
        return this;
    }

    /** Bound on the initial join in {@link ClusterNode#start()}. Default 15 s. */
    public ClusterNodeBuilder joinTimeout(Duration timeout) {
        this.joinTimeout = requirePositive(timeout, "joinTimeout");
        return this;
    }

    /**
     * Deadline of every reliable send, request and gather: no future the node returns for them
     * stays pending longer, whatever peers do. A request's own timeout is capped at it. Default 30 s.
     */
    public ClusterNodeBuilder sendTimeout(Duration timeout) {
        this.sendTimeout = requirePositive(timeout, "sendTimeout");
        return this;
    }

    /**
     * How long {@link ClusterNode#close()} waits, before it leaves, for handlers that have
     * messages to finish and for the acknowledgements of everything handled (and of this node's
     * own messages) to go out. Default 5 s; zero skips the wait (close then behaves like a crash
     * for messages in flight: at-least-once, a restarted node may handle them again).
     */
    public ClusterNodeBuilder drainTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "drainTimeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("drainTimeout must not be negative");
        }
        this.drainTimeout = timeout;
        return this;
    }

    /**
     * The job server's timing and retries (poll, heartbeat, abandonment timeout, attempts,
     * backoff); defaults in {@link io.hacluster.jobs.JobServerSettings#defaults()}. Used only with
     * a database router.
     */
    public ClusterNodeBuilder jobServerSettings(io.hacluster.jobs.JobServerSettings settings) {
        this.jobServerSettings = Objects.requireNonNull(settings, "jobServerSettings");
        return this;
    }

    /**
     * Serves {@code GET /metrics} on the health port with what {@code scrape} returns, in
     * Prometheus' text format: pass a Prometheus registry's {@code scrape} method, after binding
     * {@code io.hacluster.metrics.ClusterNodeMetrics} to it. Off (404) unless set.
     */
    public ClusterNodeBuilder metricsScrape(java.util.function.Supplier<String> scrape) {
        this.metricsScrape = Objects.requireNonNull(scrape, "metricsScrape");
        return this;
    }

    /**
     * Whether {@link ClusterNode#start()} installs a JVM shutdown hook that calls
     * {@link ClusterNode#close()}, so that SIGTERM (or {@code System.exit}) means a graceful
     * leave: drained messages, a LEFT broadcast, the discovery row deleted. Off by default, since
     * an application server usually orders its own shutdown; {@code kill -9} runs no hook either
     * way. The hook is removed when the node is closed otherwise.
     */
    public ClusterNodeBuilder shutdownHook(boolean install) {
        this.shutdownHook = install;
        return this;
    }

    /**
     * Validates the configuration and creates the node, not yet started.
     *
     * @throws io.hacluster.config.ConfigException listing every configuration problem
     * @throws IllegalStateException when no configuration was given, cluster mode is off
     *     ({@code Enable} false) or an unsupported option is on
     */
    public ClusterNode build() {
        HaConfig effective = config;
        if (effective == null) {
            if (clusterSettings == null) {
                throw new IllegalStateException("give configFile(...), config(...) or clusterSettings(...)");
            }
            HaConfig.Builder b = HaConfig.builder().clusterSettings(clusterSettings)
                    .sqlSettings(sqlSettings == null ? SqlSettings.defaults() : sqlSettings);
            if (jobSettings != null) {
                b.jobSettings(jobSettings);
            }
            effective = b.build();
        }
        ClusterSettings cluster = effective.clusterSettings();
        if (!cluster.enable()) {
            throw new IllegalStateException("ClusterSettings.Enable is false: this node is not meant to cluster");
        }
        return new ClusterNode(this, effective);
    }

    private static Duration requirePositive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive");
        }
        return d;
    }
}
