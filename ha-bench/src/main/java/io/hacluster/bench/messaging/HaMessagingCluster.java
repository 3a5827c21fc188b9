package io.hacluster.bench.messaging;

import io.hacluster.ClusterMessage;
import io.hacluster.messaging.Messenger;
import io.hacluster.messaging.MessengerConfig;
import io.hacluster.messaging.StreamSecurity;
import io.hacluster.messaging.StreamTls;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * Three {@link Messenger}s on 127.0.0.1: reliable broadcast with {@code waitForAllToSend}; over
 * plain TCP, or over mutual TLS with certificates bound to addresses and members only.
 */
final class HaMessagingCluster implements BroadcastCluster {

    private final List<Messenger> nodes = new ArrayList<>();
    private final LongAdder delivered = new LongAdder();

    private final boolean tls;

    HaMessagingCluster() throws Exception {
        this(false);
    }

    HaMessagingCluster(boolean mutualTls) throws Exception {
        this.tls = mutualTls;
        for (int i = 0; i < 3; i++) {
            MessengerConfig.Builder b = MessengerConfig.builder("bench-" + i, "bench");
            if (mutualTls) {
                StreamTls t = BenchTls.mutual();
                b.tls(t.server(), t.client()).security(StreamSecurity.strict());
            }
            MessengerConfig cfg = b
                    .bindAddress(new InetSocketAddress("127.0.0.1", 0))
                    .compressionEnabled(false) // JGroups' tcp.xml does not compress either
                    .maxPendingPerPeer(100_000)
                    .maxPendingBytesPerPeer(512L * 1024 * 1024)
                    .handlerThreads(Integer.getInteger("bench.handlerThreads", 2))
                    .ioThreads(Integer.getInteger("bench.ioThreads", 1))
                    .build();
            Messenger m = new Messenger(cfg);
            m.start();
            m.registerHandler("bench", in -> delivered.increment());
            nodes.add(m);
        }
        for (Messenger m : nodes) {
            for (Messenger o : nodes) {
                if (m != o) {
                    m.peerAlive(o.nodeId(), o.localAddress());
                }
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!nodes.stream().allMatch(m -> m.connectedPeers().size() == 2)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("messengers did not connect");
            }
            Thread.sleep(10);
        }
    }

    @Override
    public String name() {
        return tls ? "ha-cluster Messenger mTLS" : "ha-cluster Messenger";
    }

    @Override
    public CompletableFuture<?> broadcast(int from, byte[] payload) {
        return nodes.get(from).send(ClusterMessage.reliable("bench", payload).waitingForAll(true));
    }

    @Override
    public long delivered() {
        return delivered.sum();
    }

    @Override
    public void close() {
        nodes.forEach(Messenger::close);
    }
}
