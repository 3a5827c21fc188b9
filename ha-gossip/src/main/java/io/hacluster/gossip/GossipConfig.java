package io.hacluster.gossip;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything that tunes one gossip node. Field names and defaults follow hashicorp/memberlist's
 * {@code Config}; {@link #lan}, {@link #wan} and {@link #local} reproduce
 * {@code DefaultLANConfig}, {@code DefaultWANConfig} and {@code DefaultLocalConfig} exactly.
 * Build variations with {@link #toBuilder()}.
 *
 * @param name                    unique node name in the cluster
 * @param bindHost                address to bind UDP and TCP to (memberlist: 0.0.0.0)
 * @param bindPort                port to bind (memberlist: 7946; 0 picks a free port)
 * @param advertiseHost           address advertised to peers, or {@code null} to derive it
 * @param advertisePort           port advertised to peers, or 0 to use the bound port
 * @param label                   cluster label prefixed to every packet and stream, "" for none
 * @param skipInboundLabelCheck   accept packets whatever their label
 * @param protocolVersion         memberlist protocol version spoken, 2..5 (memberlist default 2)
 * @param delegateProtocolMin     lowest application protocol version understood
 * @param delegateProtocolMax     highest application protocol version understood
 * @param delegateProtocolVersion application protocol version spoken
 * @param tcpTimeout              time limit of a stream exchange (push/pull, reliable send)
 * @param indirectChecks          peers asked to probe a node that missed a direct ping
 * @param retransmitMult          broadcasts are sent {@code retransmitMult * ceil(log10(n+1))} times
 * @param suspicionMult           minimum suspicion is {@code suspicionMult * max(1, log10 n) * probeInterval}
 * @param suspicionMaxTimeoutMult maximum suspicion is this multiple of the minimum
 * @param pushPullInterval        base period of full-state anti-entropy (scaled above 32 nodes)
 * @param probeInterval           period between failure-detection probes
 * @param probeTimeout            wait for a direct ack before probing indirectly
 * @param disableTcpPings         never fall back to a TCP ping
 * @param awarenessMaxMultiplier  local health multiplier cap (probe interval backs off up to this factor)
 * @param gossipNodes             peers gossiped to each gossip interval
 * @param gossipInterval          period of piggyback gossip
 * @param gossipToTheDeadTime     how long dead nodes still receive gossip (and stay in the view)
 * @param enableCompression       LZW-compress outgoing packets and streams
 * @param udpBufferSize           largest UDP packet sent (memberlist: 1400)
 * @param deadNodeReclaimTime     after this, a dead node's name may be reused from another
 *                                address; {@link Duration#ZERO} means never (memberlist default)
 * @param handoffQueueDepth       inbound gossip messages waiting for the state machine beyond which
 *                                new ones are dropped (counted): alive messages and the rest
 *                                (suspect, dead, user) each have a queue this deep, as in
 *                                memberlist; probe messages (ping, ack, nack) have their own budget
 *                                of the same depth, so gossip can never crowd out an ack
 * @param reconnectInterval       how often to try a push/pull with one failed (dead, not left) node,
 *                                so that the two sides of a healed partition find each other again;
 *                                {@link Duration#ZERO} disables. Not in memberlist: this is serf's
 *                                reconnect (same default, 30 s), which memberlist leaves to its user
 * @param reconnectTimeout        failed nodes are no longer tried after this long (serf: 24 h)
 * @param keyring                 gossip encryption keys ({@code Keyring}), or {@code null} for none
 *                                (memberlist's {@code Keyring}/{@code SecretKey})
 * @param gossipVerifyIncoming    with a keyring: drop (and count) packets and streams that are not
 *                                encrypted; false accepts plaintext too, to move a live cluster to
 *                                encryption (memberlist's {@code GossipVerifyIncoming}, default true)
 * @param gossipVerifyOutgoing    with a keyring: encrypt what is sent; false sends plaintext, the
 *                                first step of that move ({@code GossipVerifyOutgoing}, default true)
 * @param maxMembers              most entries the member table holds (alive, suspect, dead and left
 *                                alike, this node included); alive messages for further unknown
 *                                nodes are refused and counted. Not in memberlist, which grows
 *                                without bound (default 1024)
 * @param memberAdmissionsPerSecond unknown nodes admitted per second (token bucket with a burst of
 *                                the same size); further ones are refused and counted and come
 *                                back with the next gossip or push/pull. Not in memberlist
 *                                (default 256)
 * @param fastCrashDetection      let {@link Memberlist#probeCrash} declare a node dead at once on hard
 *                                evidence of a crash (connections refused, no ack by any path); when
 *                                false it does nothing. Not in memberlist; default true
 */
public record GossipConfig(
        String name,
        String bindHost,
        int bindPort,
        String advertiseHost,
        int advertisePort,
        String label,
        boolean skipInboundLabelCheck,
        int protocolVersion,
        int delegateProtocolMin,
        int delegateProtocolMax,
        int delegateProtocolVersion,
        Duration tcpTimeout,
        int indirectChecks,
        int retransmitMult,
        int suspicionMult,
        int suspicionMaxTimeoutMult,
        Duration pushPullInterval,
        Duration probeInterval,
        Duration probeTimeout,
        boolean disableTcpPings,
        int awarenessMaxMultiplier,
        int gossipNodes,
        Duration gossipInterval,
        Duration gossipToTheDeadTime,
        boolean enableCompression,
        int udpBufferSize,
        Duration deadNodeReclaimTime,
        int handoffQueueDepth,
        Duration reconnectInterval,
        Duration reconnectTimeout,
        Keyring keyring,
        boolean gossipVerifyIncoming,
        boolean gossipVerifyOutgoing,
        int maxMembers,
        int memberAdmissionsPerSecond,
        boolean fastCrashDetection) {

    /** memberlist's {@code MetaMaxSize}: node metadata is at most 512 bytes. */
    public static final int META_MAX_SIZE = 512;
    /** Lowest memberlist protocol version advertised (memberlist's {@code ProtocolVersionMin}). */
    public static final int PROTOCOL_VERSION_MIN = 1;
    /** Highest memberlist protocol version advertised (memberlist's {@code ProtocolVersionMax}). */
    public static final int PROTOCOL_VERSION_MAX = 5;
    /** memberlist's default port. */
    public static final int DEFAULT_PORT = 7946;
    /** Longest label memberlist accepts. */
    public static final int LABEL_MAX_BYTES = 255;

    public GossipConfig {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("name must not be empty");
        }
        Objects.requireNonNull(bindHost, "bindHost");
        label = label == null ? "" : label;
        if (label.getBytes(StandardCharsets.UTF_8).length > LABEL_MAX_BYTES) {
            throw new IllegalArgumentException("label longer than " + LABEL_MAX_BYTES + " bytes");
        }
        requirePort("bindPort", bindPort);
        requirePort("advertisePort", advertisePort);
        if (protocolVersion < 2 || protocolVersion > PROTOCOL_VERSION_MAX) {
            throw new IllegalArgumentException("protocolVersion must be 2.." + PROTOCOL_VERSION_MAX
                    + ", was " + protocolVersion);
        }
        if (delegateProtocolMin < 0 || delegateProtocolMax > 255 || delegateProtocolMin > delegateProtocolMax
                || delegateProtocolVersion < delegateProtocolMin || delegateProtocolVersion > delegateProtocolMax) {
            throw new IllegalArgumentException("delegate protocol versions must satisfy 0 <= min <= version <= max <= 255");
        }
        requirePositive("tcpTimeout", tcpTimeout);
        requirePositive("pushPullInterval", pushPullInterval);
        requirePositive("probeInterval", probeInterval);
        requirePositive("probeTimeout", probeTimeout);
        requirePositive("gossipInterval", gossipInterval);
        Objects.requireNonNull(gossipToTheDeadTime, "gossipToTheDeadTime");
        Objects.requireNonNull(deadNodeReclaimTime, "deadNodeReclaimTime");
        Objects.requireNonNull(reconnectInterval, "reconnectInterval");
        Objects.requireNonNull(reconnectTimeout, "reconnectTimeout");
        if (reconnectInterval.isNegative() || reconnectTimeout.isNegative()) {
            throw new IllegalArgumentException("reconnect durations must not be negative");
        }
        if (probeTimeout.compareTo(probeInterval) > 0) {
            throw new IllegalArgumentException("probeTimeout must not exceed probeInterval");
        }
        if (indirectChecks < 0 || retransmitMult < 1 || suspicionMult < 1 || suspicionMaxTimeoutMult < 1
                || awarenessMaxMultiplier < 1 || gossipNodes < 0 || handoffQueueDepth < 1) {
            throw new IllegalArgumentException("counts and multipliers must be positive");
        }
        if (maxMembers < 1 || memberAdmissionsPerSecond < 1) {
            throw new IllegalArgumentException("maxMembers and memberAdmissionsPerSecond must be positive");
        }
        if (udpBufferSize < 576 || udpBufferSize > 65_507) {
            throw new IllegalArgumentException("udpBufferSize must be 576..65507, was " + udpBufferSize);
        }
    }

    private static void requirePort(String what, int port) {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException(what + " out of range: " + port);
        }
    }

    private static void requirePositive(String what, Duration d) {
        Objects.requireNonNull(d, what);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive");
        }
    }

    /** memberlist's {@code DefaultLANConfig}: local-area networks, 1 s probes, 200 ms gossip. */
    public static GossipConfig lan(String name) {
        return new Builder(name).build();
    }

    /** memberlist's {@code DefaultWANConfig}: slower probes and longer timeouts for wide-area links. */
    public static GossipConfig wan(String name) {
        return new Builder(name)
                .tcpTimeout(Duration.ofSeconds(30))
                .suspicionMult(6)
                .pushPullInterval(Duration.ofSeconds(60))
                .probeTimeout(Duration.ofSeconds(3))
                .probeInterval(Duration.ofSeconds(5))
                .gossipNodes(4)
                .gossipInterval(Duration.ofMillis(500))
                .gossipToTheDeadTime(Duration.ofSeconds(60))
                .build();
    }

    /** memberlist's {@code DefaultLocalConfig}: loopback or one host, tight timeouts. */
    public static GossipConfig local(String name) {
        return new Builder(name)
                .tcpTimeout(Duration.ofSeconds(1))
                .indirectChecks(1)
                .retransmitMult(2)
                .suspicionMult(3)
                .pushPullInterval(Duration.ofSeconds(15))
                .probeTimeout(Duration.ofMillis(200))
                .probeInterval(Duration.ofSeconds(1))
                .gossipInterval(Duration.ofMillis(100))
                .gossipToTheDeadTime(Duration.ofSeconds(15))
                .build();
    }

    /** A preset by name: {@code lan}, {@code wan} or {@code local} (case-insensitive). */
    public static GossipConfig preset(String preset, String name) {
        return switch (preset.toLowerCase(java.util.Locale.ROOT)) {
            case "lan" -> lan(name);
            case "wan" -> wan(name);
            case "local" -> local(name);
            default -> throw new IllegalArgumentException("unknown preset '" + preset + "' (lan, wan, local)");
        };
    }

    /** A builder holding this configuration's values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A builder starting from the LAN preset. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private String name;
        private String bindHost = "0.0.0.0";
        private int bindPort = DEFAULT_PORT;
        private String advertiseHost;
        private int advertisePort;
        private String label = "";
        private boolean skipInboundLabelCheck;
        private int protocolVersion = 2;
        private int delegateProtocolMin;
        private int delegateProtocolMax;
        private int delegateProtocolVersion;
        private Duration tcpTimeout = Duration.ofSeconds(10);
        private int indirectChecks = 3;
        private int retransmitMult = 4;
        private int suspicionMult = 4;
        private int suspicionMaxTimeoutMult = 6;
        private Duration pushPullInterval = Duration.ofSeconds(30);
        private Duration probeInterval = Duration.ofSeconds(1);
        private Duration probeTimeout = Duration.ofMillis(500);
        private boolean disableTcpPings;
        private int awarenessMaxMultiplier = 8;
        private int gossipNodes = 3;
        private Duration gossipInterval = Duration.ofMillis(200);
        private Duration gossipToTheDeadTime = Duration.ofSeconds(30);
        private boolean enableCompression = true;
        private int udpBufferSize = 1400;
        private Duration deadNodeReclaimTime = Duration.ZERO;
        private int handoffQueueDepth = 1024;
        private Duration reconnectInterval = Duration.ofSeconds(30);
        private Duration reconnectTimeout = Duration.ofHours(24);
        private Keyring keyring;
        private boolean gossipVerifyIncoming = true;
        private boolean gossipVerifyOutgoing = true;
        private int maxMembers = 1024;
        private int memberAdmissionsPerSecond = 256;
        private boolean fastCrashDetection = true;

        private Builder(String name) {
            this.name = name;
        }

        private Builder(GossipConfig c) {
            name = c.name; bindHost = c.bindHost; bindPort = c.bindPort; advertiseHost = c.advertiseHost;
            advertisePort = c.advertisePort; label = c.label; skipInboundLabelCheck = c.skipInboundLabelCheck;
            protocolVersion = c.protocolVersion; delegateProtocolMin = c.delegateProtocolMin;
            delegateProtocolMax = c.delegateProtocolMax; delegateProtocolVersion = c.delegateProtocolVersion;
            tcpTimeout = c.tcpTimeout; indirectChecks = c.indirectChecks; retransmitMult = c.retransmitMult;
            suspicionMult = c.suspicionMult; suspicionMaxTimeoutMult = c.suspicionMaxTimeoutMult;
            pushPullInterval = c.pushPullInterval; probeInterval = c.probeInterval; probeTimeout = c.probeTimeout;
            disableTcpPings = c.disableTcpPings; awarenessMaxMultiplier = c.awarenessMaxMultiplier;
            gossipNodes = c.gossipNodes; gossipInterval = c.gossipInterval; gossipToTheDeadTime = c.gossipToTheDeadTime;
            enableCompression = c.enableCompression; udpBufferSize = c.udpBufferSize;
            deadNodeReclaimTime = c.deadNodeReclaimTime; handoffQueueDepth = c.handoffQueueDepth;
            reconnectInterval = c.reconnectInterval; reconnectTimeout = c.reconnectTimeout;
            keyring = c.keyring; gossipVerifyIncoming = c.gossipVerifyIncoming;
            gossipVerifyOutgoing = c.gossipVerifyOutgoing; maxMembers = c.maxMembers;
            memberAdmissionsPerSecond = c.memberAdmissionsPerSecond;
            fastCrashDetection = c.fastCrashDetection;
        }

        public Builder name(String v) { name = v; return this; }
        public Builder bindHost(String v) { bindHost = v; return this; }
        public Builder bindPort(int v) { bindPort = v; return this; }
        public Builder advertiseHost(String v) { advertiseHost = v; return this; }
        public Builder advertisePort(int v) { advertisePort = v; return this; }
        public Builder label(String v) { label = v; return this; }
        public Builder skipInboundLabelCheck(boolean v) { skipInboundLabelCheck = v; return this; }
        public Builder protocolVersion(int v) { protocolVersion = v; return this; }
        /** Sets the delegate (application) protocol range and the version spoken. */
        public Builder delegateProtocol(int min, int version, int max) {
            delegateProtocolMin = min; delegateProtocolVersion = version; delegateProtocolMax = max; return this;
        }
        public Builder tcpTimeout(Duration v) { tcpTimeout = v; return this; }
        public Builder indirectChecks(int v) { indirectChecks = v; return this; }
        public Builder retransmitMult(int v) { retransmitMult = v; return this; }
        public Builder suspicionMult(int v) { suspicionMult = v; return this; }
        public Builder suspicionMaxTimeoutMult(int v) { suspicionMaxTimeoutMult = v; return this; }
        public Builder pushPullInterval(Duration v) { pushPullInterval = v; return this; }
        public Builder probeInterval(Duration v) { probeInterval = v; return this; }
        public Builder probeTimeout(Duration v) { probeTimeout = v; return this; }
        public Builder disableTcpPings(boolean v) { disableTcpPings = v; return this; }
        public Builder awarenessMaxMultiplier(int v) { awarenessMaxMultiplier = v; return this; }
        public Builder gossipNodes(int v) { gossipNodes = v; return this; }
        public Builder gossipInterval(Duration v) { gossipInterval = v; return this; }
        public Builder gossipToTheDeadTime(Duration v) { gossipToTheDeadTime = v; return this; }
        public Builder enableCompression(boolean v) { enableCompression = v; return this; }
        public Builder udpBufferSize(int v) { udpBufferSize = v; return this; }
        public Builder deadNodeReclaimTime(Duration v) { deadNodeReclaimTime = v; return this; }
        public Builder handoffQueueDepth(int v) { handoffQueueDepth = v; return this; }
        public Builder reconnectInterval(Duration v) { reconnectInterval = v; return this; }
        public Builder reconnectTimeout(Duration v) { reconnectTimeout = v; return this; }
        /** Encrypts gossip with this keyring ({@code null}: no encryption). The keyring stays live: rotate it in place. */
        public Builder keyring(Keyring v) { keyring = v; return this; }
        public Builder gossipVerifyIncoming(boolean v) { gossipVerifyIncoming = v; return this; }
        public Builder gossipVerifyOutgoing(boolean v) { gossipVerifyOutgoing = v; return this; }
        public Builder maxMembers(int v) { maxMembers = v; return this; }
        public Builder memberAdmissionsPerSecond(int v) { memberAdmissionsPerSecond = v; return this; }
        /** @see GossipConfig#fastCrashDetection() */
        public Builder fastCrashDetection(boolean v) { fastCrashDetection = v; return this; }

        /** Validates and builds. */
        public GossipConfig build() {
            return new GossipConfig(name, bindHost, bindPort, advertiseHost, advertisePort, label,
                    skipInboundLabelCheck, protocolVersion, delegateProtocolMin, delegateProtocolMax,
                    delegateProtocolVersion, tcpTimeout, indirectChecks, retransmitMult, suspicionMult,
                    suspicionMaxTimeoutMult, pushPullInterval, probeInterval, probeTimeout, disableTcpPings,
                    awarenessMaxMultiplier, gossipNodes, gossipInterval, gossipToTheDeadTime,
                    enableCompression, udpBufferSize, deadNodeReclaimTime, handoffQueueDepth,
                    reconnectInterval, reconnectTimeout, keyring, gossipVerifyIncoming, gossipVerifyOutgoing,
                    maxMembers, memberAdmissionsPerSecond, fastCrashDetection);
        }
    }
}
