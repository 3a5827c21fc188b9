package io.hacluster;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hacluster.db.DatabaseRouter;
import io.hacluster.db.Dsn;
import io.hacluster.db.PoolMetrics;
import io.hacluster.messaging.IncomingMessage;
import io.hacluster.messaging.Messenger;
import io.hacluster.messaging.NodeReply;
import io.hacluster.messaging.PeerUnavailableException;
import io.hacluster.messaging.RemoteHandlerException;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's operations on a node and their cluster-wide forms, as Mattermost's mmctl asks
 * every node through a cluster message and gathers the answers: reload the configuration, recycle
 * the database connections.
 *
 * <p>The asking node sends a request on a reserved event to every live member, itself included,
 * over the reliable channel ({@link ClusterNode#gather}); each node runs the operation and replies
 * with its result as JSON. The handler only queues the work: operations run one at a time on
 * {@code ha-<id>-operations} (a router reload can take seconds), so the messaging handler thread,
 * and with it the order of that sender's other messages (election, jobs), never waits on them. At
 * most {@value #MAX_QUEUED} operations wait; more are refused at once with a remote error. A
 * plain (non-request) message on a reserved event is ignored: there is nobody to report to.
 *
 * <p>Answers are read as hostile input: at most {@value #MAX_ANSWER_BYTES} bytes, unknown fields
 * ignored, an answer that does not parse or names another node becomes that node's failure.
 */
final class NodeOperations implements AutoCloseable {

    /** Reserved event: reload the configuration file. */
    static final String RELOAD_EVENT = "ha_reload_config";
    /** Reserved event: recycle the database connections. */
    static final String RECYCLE_EVENT = "ha_recycle_db_connections";
    static final int MAX_QUEUED = 8;
    static final int MAX_ANSWER_BYTES = 256 * 1024;
    private static final int MAX_FAILURE_CHARS = 2048;

    private static final Logger LOG = LoggerFactory.getLogger(NodeOperations.class);
    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    /** How a cluster-wide operation reaches every node; {@link ClusterNode#gather}. */
    interface Gather {
        CompletableFuture<Map<String, NodeReply>> gather(String event, byte[] data, Duration timeout);
    }

    private final String nodeId;
    private final ConfigReloader reloader;
    private final DatabaseRouter router;
    private final ThreadPoolExecutor executor;
    /** Requests refused because {@value #MAX_QUEUED} were waiting; logged at 1, 2, 4, 8, ... */
    private final java.util.concurrent.atomic.AtomicLong refused = new java.util.concurrent.atomic.AtomicLong();
    /** Plain messages on a reserved event (nobody to answer); logged at 1, 2, 4, 8, ... */
    private final java.util.concurrent.atomic.AtomicLong ignored = new java.util.concurrent.atomic.AtomicLong();

    NodeOperations(String nodeId, ConfigReloader reloader, DatabaseRouter router) {
        this.nodeId = nodeId;
        this.reloader = reloader;
        this.router = router;
        this.executor = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(MAX_QUEUED), r -> {
            Thread t = new Thread(r, "ha-" + nodeId + "-operations");
            t.setDaemon(true);
            return t;
        });
        executor.allowCoreThreadTimeOut(true);
    }

    static boolean isReserved(String event) {
        return RELOAD_EVENT.equals(event) || RECYCLE_EVENT.equals(event);
    }

    void registerOn(Messenger messenger) {
        messenger.registerHandler(RELOAD_EVENT, in -> queue(in, () -> reloader.reloadFile()));
        messenger.registerHandler(RECYCLE_EVENT, in -> queue(in, this::recycle));
    }

    ConfigReloader reloader() {
        return reloader;
    }

    /**
     * Soft-evicts every pool of the router: idle connections close now, borrowed ones when they
     * are given back, and new ones open on demand.
     *
     * @throws IllegalStateException without a database router
     */
    ConnectionRecycleResult recycle() {
        if (router == null) {
            throw new IllegalStateException("node " + nodeId + " has no database: SqlSettings.DataSource is empty");
        }
        try {
            List<RecycledPool> pools = new ArrayList<>();
            for (PoolMetrics p : router.metrics().pools()) {
                pools.add(new RecycledPool(p.pool(), p.tier().name(), p.total(), p.active()));
            }
            router.recycleConnections();
            LOG.info("node {}: database connections recycled: {}", nodeId, pools);
            return new ConnectionRecycleResult(nodeId, pools, null);
        } catch (SQLException e) {
            return new ConnectionRecycleResult(nodeId, List.of(), "cannot recycle (SQLState " + e.getSQLState()
                    + "): " + Dsn.mask(String.valueOf(e.getMessage())));
        }
    }

    CompletableFuture<ClusterWide<ConfigReloadResult>> reloadEverywhere(Gather gather, Duration timeout) {
        return everywhere(gather, RELOAD_EVENT, timeout, ConfigReloadResult.class, ConfigReloadResult::nodeId);
    }

    CompletableFuture<ClusterWide<ConnectionRecycleResult>> recycleEverywhere(Gather gather, Duration timeout) {
        return everywhere(gather, RECYCLE_EVENT, timeout, ConnectionRecycleResult.class, ConnectionRecycleResult::nodeId);
    }

    private <T> CompletableFuture<ClusterWide<T>> everywhere(Gather gather, String event, Duration timeout,
                                                             Class<T> type, java.util.function.Function<T, String> idOf) {
        LOG.info("node {}: asking every node to {}", nodeId, event);
        return gather.gather(event, new byte[0], timeout).thenApply(replies -> {
            Map<String, NodeAnswer<T>> answers = new TreeMap<>();
            replies.forEach((id, reply) -> answers.put(id, decode(id, reply, type, idOf, timeout)));
            ClusterWide<T> result = new ClusterWide<>(event, answers);
            if (result.allAnswered()) {
                LOG.info("node {}: {}: all {} nodes answered", nodeId, event, answers.size());
            } else {
                LOG.warn("node {}: {}: no answer from {} of {} nodes: {}", nodeId, event, result.failures().size(),
                        answers.size(), result.failures().keySet());
            }
            return result;
        });
    }

    /** Runs {@code work} for a request on the operations thread and answers it; see the class comment. */
    void queue(IncomingMessage in, Callable<Object> work) {
        if (!in.isRequest()) {
            long n = ignored.incrementAndGet();
            if (Long.bitCount(n) == 1) {
                LOG.warn("node {}: ignored a plain message on the reserved event {} from {} ({} so far): the"
                        + " operations answer requests only", nodeId, in.event(), in.senderId(), n);
            }
            return;
        }
        try {
            executor.execute(() -> {
                byte[] answer = run(work);
                try {
                    in.reply(answer);
                } catch (RuntimeException e) {
                    LOG.debug("node {}: could not answer {}: {}", nodeId, in.event(), e.toString());
                }
            });
        } catch (RejectedExecutionException e) {
            long n = refused.incrementAndGet();
            if (Long.bitCount(n) == 1) {
                LOG.warn("node {}: refused {} from {}: {} operations are waiting ({} refused so far)", nodeId,
                        in.event(), in.senderId(), MAX_QUEUED, n);
            }
            throw new IllegalStateException("node " + nodeId + " is busy: " + MAX_QUEUED
                    + " operations are waiting already, or it is closing");
        }
    }

    private static byte[] run(Callable<Object> work) {
        ObjectNode envelope = JSON.createObjectNode();
        try {
            envelope.set("result", JSON.valueToTree(work.call()));
        } catch (Exception e) {
            envelope.put("failure", cut(Dsn.mask(e.getMessage() == null ? e.toString() : e.getMessage())));
        }
        try {
            return JSON.writeValueAsBytes(envelope);
        } catch (IOException e) {
            return ("{\"failure\":\"cannot encode the result\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    static <T> NodeAnswer<T> decode(String id, NodeReply reply, Class<T> type, java.util.function.Function<T, String> idOf,
                                    Duration timeout) {
        if (!reply.isOk()) {
            return new NodeAnswer<>(id, null, describe(reply.error(), timeout));
        }
        byte[] data = reply.data();
        if (data.length > MAX_ANSWER_BYTES) {
            return new NodeAnswer<>(id, null, "its answer is " + data.length + " bytes; at most " + MAX_ANSWER_BYTES
                    + " are read");
        }
        try {
            JsonNode root = JSON.readTree(data);
            if (root == null || !root.isObject()) {
                return new NodeAnswer<>(id, null, "its answer is not a JSON object");
            }
            JsonNode failure = root.get("failure");
            if (failure != null) {
                return new NodeAnswer<>(id, null, "failed there: " + cut(failure.asText()));
            }
            JsonNode result = root.get("result");
            if (result == null || !result.isObject()) {
                return new NodeAnswer<>(id, null, "its answer has no result");
            }
            T value = JSON.treeToValue(result, type);
            if (!id.equals(idOf.apply(value))) {
                return new NodeAnswer<>(id, null, "its answer names another node");
            }
            return new NodeAnswer<>(id, value, null);
        } catch (IOException | RuntimeException e) {
            return new NodeAnswer<>(id, null, "its answer cannot be read (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static String describe(Throwable error, Duration timeout) {
        if (error instanceof TimeoutException) {
            return "no answer within " + timeout.toMillis() + " ms";
        }
        if (error instanceof RemoteHandlerException) {
            return "failed there: " + cut(error.getMessage());
        }
        if (error instanceof PeerUnavailableException) {
            return "unavailable: " + cut(error.getMessage());
        }
        return cut(error.getClass().getSimpleName() + ": " + error.getMessage());
    }

    private static String cut(String s) {
        String text = String.valueOf(s);
        return text.length() > MAX_FAILURE_CHARS ? text.substring(0, MAX_FAILURE_CHARS) + "..." : text;
    }

    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
