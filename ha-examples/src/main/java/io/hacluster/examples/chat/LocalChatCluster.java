package io.hacluster.examples.chat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hacluster.examples.FreePorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Chat nodes in child JVMs on 127.0.0.1 behind an optional nginx, on a PostgreSQL the caller
 * runs: what the demo, the end-to-end tests and the benchmark share. Each node gets a
 * Mattermost-shaped config.json of its own; the database addresses, which carry a password, go
 * through {@code HA_SQLSETTINGS_...} environment overrides instead of the file.
 */
public final class LocalChatCluster implements AutoCloseable {

    /** Bound on one node's start (a JVM, a join, the schema) on a loaded 2-core machine. */
    static final Duration NODE_START = Duration.ofSeconds(90);

    /**
     * What the cluster runs on and how.
     *
     * @param primaryDsn     the master's data source (a secret)
     * @param replicaDsns    read replicas
     * @param searchDsns     search replicas
     * @param nodes          how many chat nodes
     * @param nginx          whether to put nginx in front (fails if it is not installed)
     * @param retentionEvery the retention job's period
     * @param pgNotifyFanout posts cross nodes by PostgreSQL NOTIFY instead of cluster messages (the benchmark's peer)
     */
    public record Options(String primaryDsn, List<String> replicaDsns, List<String> searchDsns, int nodes,
                          boolean nginx, Duration retentionEvery, boolean pgNotifyFanout) {

        /** The chat as it is meant to run: posts cross nodes as cluster messages. */
        public Options(String primaryDsn, List<String> replicaDsns, List<String> searchDsns, int nodes, boolean nginx,
                       Duration retentionEvery) {
            this(primaryDsn, replicaDsns, searchDsns, nodes, nginx, retentionEvery, false);
        }
    }

    private final Path dir;
    private final List<ChatNodeProcess> nodes;
    private final NginxFront nginx;

    private LocalChatCluster(Path dir, List<ChatNodeProcess> nodes, NginxFront nginx) {
        this.dir = dir;
        this.nodes = nodes;
        this.nginx = nginx;
    }

    /** Starts the nodes (all at once: the schema's creation is safe under that), then nginx. */
    public static LocalChatCluster start(Path dir, Options options) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        String clusterName = "chat-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> env = new HashMap<>();
        env.put("HA_SQLSETTINGS_DATASOURCE", options.primaryDsn());
        env.put("HA_SQLSETTINGS_DATASOURCEREPLICAS", String.join(" ", options.replicaDsns()));
        env.put("HA_SQLSETTINGS_DATASOURCESEARCHREPLICAS", String.join(" ", options.searchDsns()));
        List<ChatNodeProcess> started = new ArrayList<>();
        NginxFront front = null;
        try {
            List<Path> configs = new ArrayList<>();
            for (int i = 1; i <= options.nodes(); i++) {
                Path config = dir.resolve("node" + i + ".json");
                Files.writeString(config, config(clusterName, dir.resolve("node" + i + ".id"), options).toPrettyString());
                configs.add(config);
            }
            List<java.util.concurrent.Future<ChatNodeProcess>> starting = new ArrayList<>();
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(options.nodes());
            try {
                for (int i = 0; i < options.nodes(); i++) {
                    String name = "node" + (i + 1);
                    Path config = configs.get(i);
                    starting.add(pool.submit(() -> ChatNodeProcess.start(name, config, FreePorts.tcpAndUdp(), env, NODE_START)));
                }
                IllegalStateException failure = null;
                for (var f : starting) {
                    try {
                        started.add(f.get());
                    } catch (java.util.concurrent.ExecutionException e) {
                        failure = failure != null ? failure : new IllegalStateException(e.getCause().getMessage(), e.getCause());
                    }
                }
                if (failure != null) {
                    throw failure;
                }
            } finally {
                pool.shutdown();
            }
            if (options.nginx()) {
                front = NginxFront.start(dir.resolve("nginx"), FreePorts.tcpAndUdp(),
                        started.stream().map(ChatNodeProcess::httpAddress).toList());
            }
            return new LocalChatCluster(dir, List.copyOf(started), front);
        } catch (IOException | InterruptedException | RuntimeException e) {
            started.forEach(ChatNodeProcess::close);
            if (front != null) {
                front.close();
            }
            throw e;
        }
    }

    /** A node's config.json, Mattermost-shaped; no secret in it. */
    static ObjectNode config(String clusterName, Path idFile, Options options) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        // the nodes' ports differ on one host: each gets --listen instead of a ListenAddress
        // (which would make the config hashes differ); ClusterSettings is outside the hash
        root.putObject("ServiceSettings").put("ListenAddress", ":8065");
        ObjectNode cluster = root.putObject("ClusterSettings");
        cluster.put("Enable", true).put("ClusterName", clusterName).put("OverrideHostname", "127.0.0.1")
                .put("BindAddress", "127.0.0.1").put("AdvertiseAddress", "127.0.0.1").put("UseIpAddress", true)
                .put("GossipPort", FreePorts.tcpAndUdp()).put("StreamingPort", FreePorts.tcpAndUdp())
                .put("GossipPreset", "local").put("DiscoveryIntervalSeconds", 1)
                .put("NodeIdFile", idFile.toString());
        root.putObject("SqlSettings").put("DriverName", "postgres").put("DataSource", "")
                .put("MaxOpenConns", 10).put("MaxIdleConns", 2).put("ReplicaMonitorIntervalSeconds", 1);
        // a shorter lease than the default 15 s, so a crashed leader's successor takes over in
        // seconds, yet with room for renewals on a loaded machine (docs/election.md)
        root.putObject("JobSettings").put("RunJobs", true).put("RunScheduler", true)
                .put("LeaderLeaseMilliseconds", 8000).put("LeaderRenewDeadlineMilliseconds", 6000)
                .put("LeaderRetryPeriodMilliseconds", 1500);
        root.putObject("DataRetentionSettings").put("EnableMessageDeletion", true).put("MessageRetentionHours", 24)
                .put("DeletionJobIntervalSeconds", options.retentionEvery().toSeconds());
        root.putObject("ChatSettings").put("Fanout", options.pgNotifyFanout() ? "postgres-notify" : "cluster");
        return root;
    }

    public List<ChatNodeProcess> nodes() {
        return nodes;
    }

    public Optional<NginxFront> nginx() {
        return Optional.ofNullable(nginx);
    }

    /** Where clients go: nginx when it runs, else the first node. */
    public URI entry() {
        return nginx != null ? nginx.uri() : nodes.get(0).uri();
    }

    public Path directory() {
        return dir;
    }

    public ChatNodeProcess node(String id) {
        return nodes.stream().filter(n -> n.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + id));
    }

    /** nginx first (no new client reaches a stopping node), then every node that still runs. */
    @Override
    public void close() {
        if (nginx != null) {
            nginx.close();
        }
        nodes.parallelStream().forEach(ChatNodeProcess::close);
    }

    /**
     * Clients watching {@code channel} through {@link #entry()} until every live node serves at
     * least one websocket (at most 12 clients). A client makes three requests (login, websocket,
     * catch-up), which with three nodes in nginx's round robin would put every websocket on the
     * same node; a ping before each shifts the rotation.
     */
    public List<ChatClient> watchersOnEveryNode(long channel, String namePrefix, Duration timeout)
            throws IOException, InterruptedException {
        return watchersOnEveryNode(channel, namePrefix, timeout, (client, post) -> { });
    }

    /** As {@link #watchersOnEveryNode(long, String, Duration)}, each post handed to {@code onPost} with its watcher. */
    public List<ChatClient> watchersOnEveryNode(long channel, String namePrefix, Duration timeout,
                                                java.util.function.BiConsumer<ChatClient, Post> onPost)
            throws IOException, InterruptedException {
        List<ChatClient> watchers = new ArrayList<>();
        java.util.Set<String> live = new java.util.HashSet<>();
        nodes.stream().filter(ChatNodeProcess::isAlive).forEach(n -> live.add(n.id()));
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        for (int i = 0; i < 12 && !served(watchers).containsAll(live); i++) {
            http.send(java.net.http.HttpRequest.newBuilder(entry().resolve("/api/v4/system/ping")).build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding());
            ChatClient w = ChatClient.login(clientBases(), namePrefix + i);
            watchers.add(w);
            w.watch(channel, p -> onPost.accept(w, p));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (w.servingNode() == null) {
                if (System.nanoTime() > deadline) {
                    watchers.forEach(ChatClient::close);
                    throw new IllegalStateException(namePrefix + i + " got no websocket hello within " + timeout);
                }
                Thread.sleep(20);
            }
        }
        return watchers;
    }

    /** Where a client goes: nginx alone when it runs, else every node in turn (client-side failover). */
    public List<URI> clientBases() {
        return nginx != null ? List.of(nginx.uri()) : nodes.stream().map(ChatNodeProcess::uri).toList();
    }

    private static java.util.Set<String> served(List<ChatClient> watchers) {
        java.util.Set<String> s = new java.util.HashSet<>();
        watchers.forEach(w -> {
            if (w.servingNode() != null) {
                s.add(w.servingNode());
            }
        });
        return s;
    }

    /** The HTTP addresses of the nodes. */
    public List<InetSocketAddress> httpAddresses() {
        return nodes.stream().map(ChatNodeProcess::httpAddress).toList();
    }
}
