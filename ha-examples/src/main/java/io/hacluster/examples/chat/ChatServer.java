package io.hacluster.examples.chat;

import io.hacluster.ClusterNode;
import io.hacluster.ClusterNodeBuilder;
import io.hacluster.LifecycleState;
import io.hacluster.db.DatabaseRouter;
import io.hacluster.jobs.JobSchedule;
import io.hacluster.jobs.MisfirePolicy;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small Mattermost-like chat server made highly available by embedding a {@link ClusterNode}:
 * several of these behind a load balancer, one PostgreSQL primary with replicas, and the cluster
 * carrying websocket events and cache invalidations between them (see docs/getting-started.md).
 *
 * <p>Start order matters and is the point of the example: handlers are registered before the
 * node joins (no event finds a node without its handler), the schema and the retention job come
 * once the node runs (they need its database router and job server), and HTTP opens last, so the
 * load balancer's ping never sends a client to a node that cannot serve it.
 */
public final class ChatServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChatServer.class);
    private static final int CACHE_ENTRIES = 10_000;

    private final ClusterNode node;
    private final ChatSettings settings;
    private final WebSocketHub hub;
    private final LocalCache<User> users;
    private final LocalCache<Channel> channels;
    private final ClusterFanout fanout;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile ChatStore store;
    private volatile DatabaseRouter router;
    private volatile ChatHttpServer http;
    private volatile PgNotifyFanout pgNotify;

    private ChatServer(ClusterNode node, ChatSettings settings) {
        this.node = node;
        this.settings = settings;
        this.hub = new WebSocketHub(settings.maxWebSockets());
        this.users = new LocalCache<>(CACHE_ENTRIES, id -> store.user(id));
        this.channels = new LocalCache<>(CACHE_ENTRIES, id -> store.channel(id));
        this.fanout = new ClusterFanout(node, hub, channels, users);
    }

    /**
     * Builds the node from {@code builder} (which must configure SqlSettings: the chat lives in
     * PostgreSQL), starts it, the schema, the retention job and HTTP.
     *
     * @throws SQLException if the schema cannot be created
     * @throws io.hacluster.ClusterStartException if the node cannot start
     */
    public static ChatServer start(ClusterNodeBuilder builder, ChatSettings settings) throws SQLException {
        ClusterNode node = builder.build();
        ChatServer server = new ChatServer(node, settings);
        try {
            server.startAll();
            return server;
        } catch (SQLException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private void startAll() throws SQLException {
        fanout.registerHandlers();
        node.start();
        router = node.database().orElseThrow(() ->
                new IllegalStateException("the chat server needs SqlSettings.DataSource: its tables live in PostgreSQL"));
        store = new ChatStore(router, node.id());
        try (Connection c = router.master()) {
            ChatSchema.create(c);
        }
        node.jobs().registerPeriodicJob(RetentionJob.TYPE, JobSchedule.every(settings.retentionEvery()),
                MisfirePolicy.SKIP, new RetentionJob(router, node.id(), settings.messageDeletion(), settings.retention()));
        if (settings.pgNotifyFanout()) {
            pgNotify = new PgNotifyFanout(router, node.id(), hub);
        }
        InetSocketAddress bind = settings.listenHost().isEmpty()
                ? new InetSocketAddress(settings.listenPort())
                : new InetSocketAddress(settings.listenHost(), settings.listenPort());
        http = new ChatHttpServer(this, bind, node.id());
        LOG.info("chat node {} serves http://{}:{}/", node.id(), http.address().getHostString(), http.address().getPort());
    }

    /** The HTTP and websocket address (the port chosen when the settings said 0). */
    public InetSocketAddress httpAddress() {
        return http.address();
    }

    /** The embedded cluster node. */
    public ClusterNode node() {
        return node;
    }

    /** Whether a load balancer should send clients here. */
    public boolean healthy() {
        return !closed.get() && node.state() == LifecycleState.RUNNING;
    }

    /** This node's websocket connections now. */
    public int webSocketConnections() {
        return hub.connections();
    }

    /**
     * The body of {@code GET /api/v4/cluster/status}: the node's own cluster status (cluster
     * infos GREEN/RED, election with the leader, members) plus the chat's figures on this node.
     */
    public Map<String, Object> status() {
        Map<String, Object> status = new LinkedHashMap<>();
        Object core = node.healthSource().clusterStatus();
        if (core instanceof Map<?, ?> map) {
            map.forEach((k, v) -> status.put(String.valueOf(k), v));
        } else {
            status.put("cluster", core);
        }
        Map<String, Object> chat = new LinkedHashMap<>();
        chat.put("is_leader", node.isLeader());
        chat.put("leader_id", node.leader().map(l -> l.id()).orElse(null));
        chat.put("websocket_connections", hub.connections());
        chat.put("websocket_refused", hub.refused());
        chat.put("slow_clients_dropped", hub.slowClientsDropped());
        chat.put("events_published", hub.published());
        chat.put("cluster_events", fanout.stats());
        chat.put("cached_users", users.size());
        chat.put("cached_channels", channels.size());
        status.put("chat", chat);
        try {
            status.put("database", router.servers().stream().map(server -> Map.of("tier", server.tier().name(),
                    "server", server.server(), "state", server.state().name())).toList());
        } catch (SQLException e) {
            status.put("database", "unavailable: " + e.getSQLState());
        }
        return status;
    }

    /** The NOTIFY fan-out when {@code ChatSettings.Fanout} is postgres-notify, else null. */
    PgNotifyFanout pgNotify() {
        return pgNotify;
    }

    ChatStore store() {
        return store;
    }

    WebSocketHub hub() {
        return hub;
    }

    ClusterFanout fanout() {
        return fanout;
    }

    LocalCache<User> users() {
        return users;
    }

    LocalCache<Channel> channels() {
        return channels;
    }

    /**
     * Stops HTTP first (the load balancer's ping fails, websocket clients reconnect to other
     * nodes), then leaves the cluster.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            hub.closeAll();
            if (http != null) {
                http.close();
            }
            if (pgNotify != null) {
                pgNotify.close();
            }
        } finally {
            node.close();
        }
    }
}
