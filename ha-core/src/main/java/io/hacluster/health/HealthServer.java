package io.hacluster.health;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP/1.1 endpoint for load balancers and operators:
 * <ul>
 *   <li>{@code GET /api/v4/system/ping}: 200 {@code {"status":"OK"}} while the node is healthy,
 *       503 {@code {"status":"UNHEALTHY"}} otherwise (Mattermost answers 500 for a non-OK
 *       status; 503 is what load balancers read as "take out of rotation");</li>
 *   <li>{@code GET /api/v4/cluster/status}: the node's view of the cluster as JSON;</li>
 *   <li>{@code GET /api/v4/jobs?type=&status=&limit=}: the cluster's jobs, newest first, as a JSON
 *       array in Mattermost's job shape (404 on a node without a job server);</li>
 *   <li>{@code GET /metrics}: Prometheus' text format, when the node was given a scrape (404
 *       otherwise).</li>
 * </ul>
 *
 * <p>It speaks only the part of HTTP that probes use, so that every input is bounded: the
 * request line and each header line are at most {@value #MAX_LINE} bytes, at most
 * {@value #MAX_HEADERS} headers, request bodies are never read (only GET is served, 405
 * otherwise), every answer closes the connection, a client that stays silent for
 * {@value #READ_TIMEOUT_SECONDS} s is dropped, a request must be complete within
 * {@link HealthLimits#requestDeadline()} of the accept however slowly it trickles in, and at most
 * {@link HealthLimits#maxConnections()} connections are open at once, at most
 * {@link HealthLimits#maxPerSource()} of them from one source IP (more are closed on accept and
 * counted), so a load balancer's probes are answered while another source holds connections. The ping is answered
 * on the event-loop thread {@code ha-<node>-health} from memory; the status and the jobs, which
 * may ask the database, are built on {@code ha-<node>-health-queries}, one at a time, with at most
 * {@value #MAX_CONNECTIONS} waiting (more are answered 503), so a slow database never stalls the
 * load balancer's probe.
 */
public final class HealthServer implements AutoCloseable {

    /** The load-balancer probe path. */
    public static final String PING_PATH = "/api/v4/system/ping";
    /** The cluster status path. */
    public static final String STATUS_PATH = "/api/v4/cluster/status";
    /** The jobs path. */
    public static final String JOBS_PATH = "/api/v4/jobs";
    /** The Prometheus scrape path. */
    public static final String METRICS_PATH = "/metrics";
    private static final String JSON = "application/json";
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    static final int MAX_LINE = 8192;
    static final int MAX_HEADERS = 100;
    static final int MAX_CONNECTIONS = 64;
    static final int READ_TIMEOUT_SECONDS = 10;

    private static final Logger LOG = LoggerFactory.getLogger(HealthServer.class);

    private final InetSocketAddress bind;
    private final HealthSource source;
    private final String threadName;
    private final ObjectMapper json = new ObjectMapper();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong deadlineCloses = new AtomicLong();
    private final HealthLimits limits;
    /** Open connections per source IP; entries go when their count reaches 0 (bounded by maxConnections). */
    private final java.util.concurrent.ConcurrentHashMap<java.net.InetAddress, Integer> perSource =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.ThreadPoolExecutor queries;
    private volatile EventLoopGroup group;
    private volatile Channel serverChannel;

    /**
     * @param bind       address to listen on; port 0 picks a free port
     * @param source     what to report
     * @param threadName the event-loop thread's name, {@code ha-<node>-health}
     */
    public HealthServer(InetSocketAddress bind, HealthSource source, String threadName) {
        this(bind, source, threadName, HealthLimits.defaults());
    }

    /**
     * @param bind       address to listen on; port 0 picks a free port
     * @param source     what to report
     * @param threadName the event-loop thread's name, {@code ha-<node>-health}
     * @param limits     connection limits and the whole-request deadline
     */
    public HealthServer(InetSocketAddress bind, HealthSource source, String threadName, HealthLimits limits) {
        this.limits = Objects.requireNonNull(limits);
        this.bind = Objects.requireNonNull(bind);
        this.source = Objects.requireNonNull(source);
        this.threadName = Objects.requireNonNull(threadName);
        this.queries = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new java.util.concurrent.ArrayBlockingQueue<>(MAX_CONNECTIONS), r -> {
                    Thread t = new Thread(r, threadName + "-queries");
                    t.setDaemon(true);
                    return t;
                });
    }

    /**
     * Binds and starts serving.
     *
     * @throws IllegalStateException when closed, or when the address cannot be bound
     */
    public void start() {
        if (closed.get()) {
            throw new IllegalStateException("health endpoint is closed");
        }
        if (!started.compareAndSet(false, true)) {
            return;
        }
        group = new MultiThreadIoEventLoopGroup(1, r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        }, NioIoHandler.newFactory());
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 64)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        java.net.InetAddress from = ch.remoteAddress() == null ? null : ch.remoteAddress().getAddress();
                        if (!admit(from)) {
                            rejected.incrementAndGet();
                            ch.close();
                            return;
                        }
                        RequestHandler handler = new RequestHandler();
                        // the whole request, not each read: a client trickling one byte a second is still cut off
                        io.netty.util.concurrent.ScheduledFuture<?> deadline = ch.eventLoop().schedule(() -> {
                            if (!handler.answered) {
                                deadlineCloses.incrementAndGet();
                                ch.close();
                            }
                        }, limits.requestDeadline().toMillis(), TimeUnit.MILLISECONDS);
                        ch.closeFuture().addListener(f -> {
                            deadline.cancel(false);
                            release(from);
                        });
                        ch.pipeline().addLast(new ReadTimeoutHandler(READ_TIMEOUT_SECONDS, TimeUnit.SECONDS),
                                new LineBasedFrameDecoder(MAX_LINE, true, true),
                                handler);
                    }
                });
        try {
            serverChannel = bootstrap.bind(bind).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            closed.set(true);
            throw new IllegalStateException("cannot bind the health endpoint to " + bind + ": " + e.getMessage(), e);
        }
    }

    /** The bound address (with the actual port when 0 was asked for); null before start. */
    public InetSocketAddress address() {
        Channel ch = serverChannel;
        return ch == null ? null : (InetSocketAddress) ch.localAddress();
    }

    /** Requests answered so far, errors included. */
    public long requests() {
        return requests.get();
    }

    /**
     * Connections closed on accept because {@link HealthLimits#maxConnections()} in all, or
     * {@link HealthLimits#maxPerSource()} from their source, were already open.
     */
    public long rejectedConnections() {
        return rejected.get();
    }

    /** Connections closed because their request was not complete within {@link HealthLimits#requestDeadline()}. */
    public long deadlineCloses() {
        return deadlineCloses.get();
    }

    /** Takes a connection's place in the global and per-source counts; false (nothing taken) when full. */
    private boolean admit(java.net.InetAddress from) {
        if (closed.get()) {
            return false;
        }
        if (open.incrementAndGet() > limits.maxConnections()) {
            open.decrementAndGet();
            return false;
        }
        if (from == null) {
            return true;
        }
        boolean[] ok = {false};
        perSource.compute(from, (k, n) -> {
            int count = n == null ? 0 : n;
            if (count >= limits.maxPerSource()) {
                return n;
            }
            ok[0] = true;
            return count + 1;
        });
        if (!ok[0]) {
            open.decrementAndGet();
        }
        return ok[0];
    }

    private void release(java.net.InetAddress from) {
        open.decrementAndGet();
        if (from != null) {
            perSource.computeIfPresent(from, (k, n) -> n <= 1 ? null : n - 1);
        }
    }

    /** Stops listening, closes open connections and stops the thread. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Channel ch = serverChannel;
        if (ch != null) {
            ch.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        EventLoopGroup g = group;
        if (g != null) {
            g.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        queries.shutdownNow();
    }

    /** One request per connection: the request line, headers up to the blank line, then the answer. */
    private final class RequestHandler extends SimpleChannelInboundHandler<ByteBuf> {

        private String method;
        private String path;
        private String query = "";
        private int headers;
        private volatile boolean answered;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf line) {
            if (answered) {
                return;  // whatever follows the request is not read
            }
            String text = line.toString(StandardCharsets.ISO_8859_1);
            if (method == null) {
                String[] parts = text.split(" ", -1);
                if (parts.length != 3 || !parts[2].startsWith("HTTP/1.") || parts[0].isEmpty() || parts[1].isEmpty()) {
                    answer(ctx, 400, "BAD_REQUEST");
                    return;
                }
                method = parts[0];
                int mark = parts[1].indexOf('?');
                path = mark >= 0 ? parts[1].substring(0, mark) : parts[1];
                query = mark >= 0 ? parts[1].substring(mark + 1) : "";
                return;
            }
            if (!text.isEmpty()) {
                if (++headers > MAX_HEADERS) {
                    answer(ctx, 431, "HEADERS_TOO_LARGE");
                }
                return;
            }
            respond(ctx);
        }

        private void respond(ChannelHandlerContext ctx) {
            if (!"GET".equals(method)) {
                answer(ctx, 405, "METHOD_NOT_ALLOWED");
                return;
            }
            switch (path) {
                case PING_PATH -> {
                    boolean healthy = !closed.get() && source.healthy();
                    answer(ctx, healthy ? 200 : 503, healthy ? "OK" : "UNHEALTHY");
                }
                case STATUS_PATH -> offLoop(ctx, () -> {
                    try {
                        write(ctx, 200, json.writeValueAsBytes(source.clusterStatus()));
                    } catch (Exception e) {
                        LOG.warn("cluster status could not be serialized", e);
                        answer(ctx, 500, "ERROR");
                    }
                });
                case METRICS_PATH -> offLoop(ctx, () -> {
                    try {
                        String text = source.metrics();
                        if (text == null) {
                            answer(ctx, 404, "NO_METRICS");
                        } else {
                            write(ctx, 200, PROMETHEUS_TEXT, text.getBytes(StandardCharsets.UTF_8));
                        }
                    } catch (RuntimeException e) {
                        LOG.warn("metrics could not be scraped: {}", e.toString());
                        answer(ctx, 500, "ERROR");
                    }
                });
                case JOBS_PATH -> offLoop(ctx, () -> {
                    try {
                        Object jobs = source.jobs(QueryString.parse(query));
                        if (jobs == null) {
                            answer(ctx, 404, "NO_JOB_SERVER");
                        } else {
                            write(ctx, 200, json.writeValueAsBytes(jobs));
                        }
                    } catch (IllegalArgumentException e) {
                        write(ctx, 400, json.createObjectNode().put("status", "BAD_REQUEST")
                                .put("message", e.getMessage()).toString().getBytes(StandardCharsets.UTF_8));
                    } catch (Exception e) {
                        LOG.warn("jobs could not be listed: {}", e.toString());
                        answer(ctx, 503, "UNAVAILABLE");
                    }
                });
                default -> answer(ctx, 404, "NOT_FOUND");
            }
        }

        /** Runs {@code task} on the query thread; a full queue answers 503 at once. */
        private void offLoop(ChannelHandlerContext ctx, Runnable task) {
            answered = true;  // no more lines are read while the answer is built
            ctx.channel().config().setAutoRead(false);
            try {
                queries.execute(task);
            } catch (java.util.concurrent.RejectedExecutionException busy) {
                answer(ctx, 503, "BUSY");
            }
        }

        private void answer(ChannelHandlerContext ctx, int code, String status) {
            write(ctx, code, ("{\"status\":\"" + status + "\"}").getBytes(StandardCharsets.UTF_8));
        }

        private void write(ChannelHandlerContext ctx, int code, byte[] body) {
            write(ctx, code, JSON, body);
        }

        private void write(ChannelHandlerContext ctx, int code, String contentType, byte[] body) {
            answered = true;
            requests.incrementAndGet();
            String head = "HTTP/1.1 " + code + " " + reason(code) + "\r\n"
                    + "Content-Type: " + contentType + "\r\n"
                    + "Cache-Control: no-store\r\n"
                    + (code == 405 ? "Allow: GET\r\n" : "")
                    + "Content-Length: " + body.length + "\r\n"
                    + "Connection: close\r\n\r\n";
            ByteBuf out = Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.ISO_8859_1), body);
            ctx.channel().config().setAutoRead(false);
            ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof TooLongFrameException && !answered) {
                answer(ctx, 431, "LINE_TOO_LONG");
                return;
            }
            LOG.debug("health connection from {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }

    private static String reason(int code) {
        return switch (code) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 431 -> "Request Header Fields Too Large";
            case 503 -> "Service Unavailable";
            default -> "Internal Server Error";
        };
    }
}
