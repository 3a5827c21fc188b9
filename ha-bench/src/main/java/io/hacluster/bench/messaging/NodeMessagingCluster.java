package io.hacluster.bench.messaging;

import io.hacluster.ClusterMessage;
import io.hacluster.ClusterNode;
import io.hacluster.config.ClusterSettings;
import io.hacluster.metrics.ClusterNodeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Three whole {@link ClusterNode}s on 127.0.0.1 (gossip, messaging, election; no database):
 * reliable broadcast with {@code waitForAllToSend}, optionally with {@link ClusterNodeMetrics}
 * bound to a Prometheus registry per node and each registry scraped every {@code scrapeEvery}
 * (real Prometheus scrapes every 15 s or more; a shorter period only adds cost).
 */
final class NodeMessagingCluster implements BroadcastCluster {

    private final boolean metrics;
    private final List<ClusterNode> nodes = new ArrayList<>();
    private final List<PrometheusMeterRegistry> registries = new ArrayList<>();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder scrapedBytes = new LongAdder();
    private ScheduledExecutorService scraper;

    NodeMessagingCluster(boolean metrics, Duration scrapeEvery) {
        this.metrics = metrics;
        String cluster = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        String seed = null;
        try {
            for (int i = 0; i < 3; i++) {
                int gossip = freePort();
                ClusterSettings settings = ClusterSettings.builder().enable(true).clusterName(cluster)
                        .overrideHostname("127.0.0.1").bindAddress("127.0.0.1")
                        .gossipPort(gossip).streamingPort(freePort()).gossipPreset("local")
                        .peerQueueSize(100_000)
                        .seeds(seed == null ? List.of() : List.of(seed)).build();
                ClusterNode n = ClusterNode.builder().clusterSettings(settings)
                        .messagingTuning(b -> b.compressionEnabled(false)
                                .maxPendingBytesPerPeer(512L * 1024 * 1024)
                                .handlerThreads(Integer.getInteger("bench.handlerThreads", 2))
                                .ioThreads(Integer.getInteger("bench.ioThreads", 1)))
                        .joinTimeout(Duration.ofSeconds(10)).build();
                n.registerHandler("bench", in -> delivered.increment());
                n.start();
                nodes.add(n);
                if (seed == null) {
                    seed = "127.0.0.1:" + gossip;
                }
                if (metrics) {
                    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
                    new ClusterNodeMetrics(n).bindTo(registry);
                    registries.add(registry);
                }
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!nodes.stream().allMatch(n -> n.members().size() == 3 && n.messenger().connectedPeers().size() == 2)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("nodes did not join and connect within 30 s");
                }
                Thread.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("interrupted while starting", e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        if (metrics) {
            scraper = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "bench-scraper");
                t.setDaemon(true);
                return t;
            });
            long every = scrapeEvery.toMillis();
            scraper.scheduleAtFixedRate(() -> registries.forEach(r -> scrapedBytes.add(r.scrape().length())),
                    every, every, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public String name() {
        return metrics ? "ClusterNode + metrics" : "ClusterNode";
    }

    @Override
    public CompletableFuture<?> broadcast(int from, byte[] payload) {
        return nodes.get(from).send(ClusterMessage.reliable("bench", payload).waitingForAll(true));
    }

    @Override
    public long delivered() {
        return delivered.sum();
    }

    /** Characters scraped so far (shows the scrapes ran). */
    long scrapedChars() {
        return scrapedBytes.sum();
    }

    @Override
    public void close() {
        if (scraper != null) {
            scraper.shutdownNow();
        }
        nodes.forEach(ClusterNode::close);
        registries.forEach(PrometheusMeterRegistry::close);
    }

    /** A port free for TCP and UDP on loopback (gossip uses both on one number). */
    private static int freePort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket tcp = new ServerSocket()) {
                tcp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                int port = tcp.getLocalPort();
                try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                    return port;
                } catch (IOException taken) {
                    // try another
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no free port");
    }
}
