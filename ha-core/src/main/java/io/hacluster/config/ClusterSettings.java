package io.hacluster.config;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;

/**
 * The {@code ClusterSettings} section of a Mattermost-shaped {@code config.json}: how this node
 * finds, joins and talks to its peers.
 *
 * <p>JSON names are Mattermost's PascalCase names; defaults are Mattermost's where Mattermost has
 * the field. These settings are node-specific, so they are left out of the
 * {@linkplain HaConfig#hash() configuration hash}: nodes may differ here (for example in
 * {@code OverrideHostname}) and still be GREEN.
 *
 * <p>A value, not validated on construction; {@link HaConfig} validates the whole configuration
 * and reports every problem at once. Build one with {@link #builder()} or {@link #defaults()}.
 *
 * @param enable turns cluster mode on ({@code Enable}, default false)
 * @param clusterName name shared by every node of one cluster; must not be empty while
 *     {@code enable} is true ({@code ClusterName}, default "")
 * @param overrideHostname host name this node advertises instead of the OS host name
 *     ({@code OverrideHostname}, default "")
 * @param networkInterface interface whose address is advertised when no advertise address is set
 *     ({@code NetworkInterface}, default "")
 * @param bindAddress address the gossip and streaming ports bind to; "" means all interfaces
 *     ({@code BindAddress}, default "")
 * @param advertiseAddress address peers are told to use, for NAT or multi-NIC hosts
 *     ({@code AdvertiseAddress}, default "")
 * @param useIpAddress advertise an IP address rather than the host name ({@code UseIpAddress},
 *     also read as {@code UseIPAddress}; default true)
 * @param enableGossipCompression LZW-compress gossip messages ({@code EnableGossipCompression},
 *     default true)
 * @param enableExperimentalGossipEncryption AES-GCM encrypt gossip with the cluster key
 *     ({@code EnableExperimentalGossipEncryption}, default false)
 * @param readOnlyConfig the application should refuse configuration edits at run time
 *     ({@code ReadOnlyConfig}, default true)
 * @param gossipPort UDP and TCP port of the memberlist protocol ({@code GossipPort}, default 8074)
 * @param streamingPort TCP port of the cluster message stream ({@code StreamingPort}, default 8075)
 * @param seeds static gossip seeds, each {@code host:port} ({@code Seeds}, default empty)
 * @param gossipPreset memberlist timing preset: {@code lan}, {@code wan} or {@code local}
 *     ({@code GossipPreset}, default "lan")
 * @param discoveryIntervalSeconds how often this node refreshes its {@code LastPingAt} row in the
 *     discovery table ({@code DiscoveryIntervalSeconds}, default 60)
 * @param discoveryOfflineAfterSeconds a discovery row older than this is ignored
 *     ({@code DiscoveryOfflineAfterSeconds}, default 1800)
 * @param healthPort HTTP port of the load-balancer health endpoint; 0 turns it off
 *     ({@code HealthPort}, default 0)
 * @param nodeIdFile file that keeps this node's 26-character id across restarts; "" means a new
 *     id at every start ({@code NodeIdFile}, default "")
 * @param maxMessageSizeBytes largest frame accepted on the streaming port
 *     ({@code MaxMessageSizeBytes}, default 16777216)
 * @param peerQueueSize capacity of the bounded reliable-send queue per peer
 *     ({@code PeerQueueSize}, default 10000)
 * @param enableFastCrashDetection when a peer's streaming connection ends abruptly (reset, or
 *     closed without a goodbye), probe it at once and declare it dead without the suspicion
 *     timeout when its gossip and streaming ports both refuse connections and no probe path
 *     answers ({@code EnableFastCrashDetection}, default true; not Mattermost's)
 */
public record ClusterSettings(
        @JsonProperty("Enable") boolean enable,
        @JsonProperty("ClusterName") String clusterName,
        @JsonProperty("OverrideHostname") String overrideHostname,
        @JsonProperty("NetworkInterface") String networkInterface,
        @JsonProperty("BindAddress") String bindAddress,
        @JsonProperty("AdvertiseAddress") String advertiseAddress,
        @JsonProperty("UseIpAddress") @JsonAlias("UseIPAddress") boolean useIpAddress,
        @JsonProperty("EnableGossipCompression") boolean enableGossipCompression,
        @JsonProperty("EnableExperimentalGossipEncryption") boolean enableExperimentalGossipEncryption,
        @JsonProperty("ReadOnlyConfig") boolean readOnlyConfig,
        @JsonProperty("GossipPort") int gossipPort,
        @JsonProperty("StreamingPort") int streamingPort,
        @JsonProperty("Seeds") List<String> seeds,
        @JsonProperty("GossipPreset") String gossipPreset,
        @JsonProperty("DiscoveryIntervalSeconds") int discoveryIntervalSeconds,
        @JsonProperty("DiscoveryOfflineAfterSeconds") int discoveryOfflineAfterSeconds,
        @JsonProperty("HealthPort") int healthPort,
        @JsonProperty("NodeIdFile") String nodeIdFile,
        @JsonProperty("MaxMessageSizeBytes") int maxMessageSizeBytes,
        @JsonProperty("PeerQueueSize") int peerQueueSize,
        @JsonProperty("EnableFastCrashDetection") boolean enableFastCrashDetection) {

    /** Section name in {@code config.json}. */
    public static final String SECTION = "ClusterSettings";

    /** Mattermost's default gossip port. */
    public static final int DEFAULT_GOSSIP_PORT = 8074;
    /** Mattermost's default streaming port. */
    public static final int DEFAULT_STREAMING_PORT = 8075;

    /** Null strings become "" and a null seed list becomes empty, so every accessor is non-null. */
    public ClusterSettings {
        clusterName = Objects.requireNonNullElse(clusterName, "");
        overrideHostname = Objects.requireNonNullElse(overrideHostname, "");
        networkInterface = Objects.requireNonNullElse(networkInterface, "");
        bindAddress = Objects.requireNonNullElse(bindAddress, "");
        advertiseAddress = Objects.requireNonNullElse(advertiseAddress, "");
        seeds = seeds == null ? List.of() : List.copyOf(seeds);
        gossipPreset = Objects.requireNonNullElse(gossipPreset, "");
        nodeIdFile = Objects.requireNonNullElse(nodeIdFile, "");
    }

    /**
     * {@link #seeds()} as unresolved socket addresses (resolved when contacted, so a seed whose
     * DNS name appears later still works).
     *
     * @throws IllegalArgumentException if a seed is not {@code host:port}; a validated
     *     configuration ({@link HaConfig}) never has such a seed
     */
    public List<InetSocketAddress> seedAddresses() {
        return seeds.stream().map(seed -> HostPort.parse(seed).toUnresolved()).toList();
    }

    /** Field values, with anything that looks like a password masked (a DSN pasted into the wrong field). */
    @Override
    public String toString() {
        return MaskedRecords.toString(this);
    }

    /** Every field at its default. */
    public static ClusterSettings defaults() {
        return builder().build();
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this value. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Mutable builder for {@link ClusterSettings}; starts from the defaults. */
    public static final class Builder {
        private boolean enable = false;
        private String clusterName = "";
        private String overrideHostname = "";
        private String networkInterface = "";
        private String bindAddress = "";
        private String advertiseAddress = "";
        private boolean useIpAddress = true;
        private boolean enableGossipCompression = true;
        private boolean enableExperimentalGossipEncryption = false;
        private boolean readOnlyConfig = true;
        private int gossipPort = DEFAULT_GOSSIP_PORT;
        private int streamingPort = DEFAULT_STREAMING_PORT;
        private List<String> seeds = List.of();
        private String gossipPreset = "lan";
        private int discoveryIntervalSeconds = 60;
        private int discoveryOfflineAfterSeconds = 1800;
        private int healthPort = 0;
        private String nodeIdFile = "";
        private int maxMessageSizeBytes = 16 * 1024 * 1024;
        private int peerQueueSize = 10_000;
        private boolean enableFastCrashDetection = true;

        private Builder() {
        }

        private Builder(ClusterSettings s) {
            enable = s.enable;
            clusterName = s.clusterName;
            overrideHostname = s.overrideHostname;
            networkInterface = s.networkInterface;
            bindAddress = s.bindAddress;
            advertiseAddress = s.advertiseAddress;
            useIpAddress = s.useIpAddress;
            enableGossipCompression = s.enableGossipCompression;
            enableExperimentalGossipEncryption = s.enableExperimentalGossipEncryption;
            readOnlyConfig = s.readOnlyConfig;
            gossipPort = s.gossipPort;
            streamingPort = s.streamingPort;
            seeds = s.seeds;
            gossipPreset = s.gossipPreset;
            discoveryIntervalSeconds = s.discoveryIntervalSeconds;
            discoveryOfflineAfterSeconds = s.discoveryOfflineAfterSeconds;
            healthPort = s.healthPort;
            nodeIdFile = s.nodeIdFile;
            maxMessageSizeBytes = s.maxMessageSizeBytes;
            peerQueueSize = s.peerQueueSize;
            enableFastCrashDetection = s.enableFastCrashDetection;
        }

        /** @see ClusterSettings#enable() */
        public Builder enable(boolean value) {
            enable = value;
            return this;
        }

        /** @see ClusterSettings#clusterName() */
        public Builder clusterName(String value) {
            clusterName = value;
            return this;
        }

        /** @see ClusterSettings#overrideHostname() */
        public Builder overrideHostname(String value) {
            overrideHostname = value;
            return this;
        }

        /** @see ClusterSettings#networkInterface() */
        public Builder networkInterface(String value) {
            networkInterface = value;
            return this;
        }

        /** @see ClusterSettings#bindAddress() */
        public Builder bindAddress(String value) {
            bindAddress = value;
            return this;
        }

        /** @see ClusterSettings#advertiseAddress() */
        public Builder advertiseAddress(String value) {
            advertiseAddress = value;
            return this;
        }

        /** @see ClusterSettings#useIpAddress() */
        public Builder useIpAddress(boolean value) {
            useIpAddress = value;
            return this;
        }

        /** @see ClusterSettings#enableGossipCompression() */
        public Builder enableGossipCompression(boolean value) {
            enableGossipCompression = value;
            return this;
        }

        /** @see ClusterSettings#enableExperimentalGossipEncryption() */
        public Builder enableExperimentalGossipEncryption(boolean value) {
            enableExperimentalGossipEncryption = value;
            return this;
        }

        /** @see ClusterSettings#readOnlyConfig() */
        public Builder readOnlyConfig(boolean value) {
            readOnlyConfig = value;
            return this;
        }

        /** @see ClusterSettings#gossipPort() */
        public Builder gossipPort(int value) {
            gossipPort = value;
            return this;
        }

        /** @see ClusterSettings#streamingPort() */
        public Builder streamingPort(int value) {
            streamingPort = value;
            return this;
        }

        /** @see ClusterSettings#seeds() */
        public Builder seeds(List<String> value) {
            seeds = value;
            return this;
        }

        /** @see ClusterSettings#gossipPreset() */
        public Builder gossipPreset(String value) {
            gossipPreset = value;
            return this;
        }

        /** @see ClusterSettings#discoveryIntervalSeconds() */
        public Builder discoveryIntervalSeconds(int value) {
            discoveryIntervalSeconds = value;
            return this;
        }

        /** @see ClusterSettings#discoveryOfflineAfterSeconds() */
        public Builder discoveryOfflineAfterSeconds(int value) {
            discoveryOfflineAfterSeconds = value;
            return this;
        }

        /** @see ClusterSettings#healthPort() */
        public Builder healthPort(int value) {
            healthPort = value;
            return this;
        }

        /** @see ClusterSettings#nodeIdFile() */
        public Builder nodeIdFile(String value) {
            nodeIdFile = value;
            return this;
        }

        /** @see ClusterSettings#maxMessageSizeBytes() */
        public Builder maxMessageSizeBytes(int value) {
            maxMessageSizeBytes = value;
            return this;
        }

        /** @see ClusterSettings#peerQueueSize() */
        public Builder peerQueueSize(int value) {
            peerQueueSize = value;
            return this;
        }

        /** @see ClusterSettings#enableFastCrashDetection() */
        public Builder enableFastCrashDetection(boolean value) {
            enableFastCrashDetection = value;
            return this;
        }

        /** The settings; not validated here (see {@link HaConfig}). */
        public ClusterSettings build() {
            return new ClusterSettings(enable, clusterName, overrideHostname, networkInterface, bindAddress,
                    advertiseAddress, useIpAddress, enableGossipCompression, enableExperimentalGossipEncryption,
                    readOnlyConfig, gossipPort, streamingPort, seeds, gossipPreset, discoveryIntervalSeconds,
                    discoveryOfflineAfterSeconds, healthPort, nodeIdFile, maxMessageSizeBytes, peerQueueSize,
                    enableFastCrashDetection);
        }
    }
}
