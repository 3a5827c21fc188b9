package io.hacluster.messaging;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.UnaryOperator;

/** Messengers on 127.0.0.1 (free ports) that all know each other; closes them all. */
final class Nodes implements AutoCloseable {

    final List<Messenger> all = new ArrayList<>();

    static MessengerConfig.Builder config(String id) {
        return MessengerConfig.builder(id, "test-cluster")
                .bindAddress(new InetSocketAddress("127.0.0.1", 0))
                .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .handlerThreads(2)
                .ioThreads(1);
    }

    static Nodes start(int n, UnaryOperator<MessengerConfig.Builder> tweak) {
        return start(n, (id, b) -> tweak.apply(b));
    }

    /** As {@link #start(int, UnaryOperator)}, with each node's settings depending on its id. */
    static Nodes start(int n, BiFunction<String, MessengerConfig.Builder, MessengerConfig.Builder> tweak) {
        Nodes nodes = new Nodes();
        for (int i = 0; i < n; i++) {
            String id = "node-" + (char) ('a' + i);
            Messenger m = new Messenger(tweak.apply(id, config(id)).build());
            m.start();
            nodes.all.add(m);
        }
        nodes.announceAll();
        return nodes;
    }

    void announceAll() {
        for (Messenger m : all) {
            for (Messenger other : all) {
                if (other != m) {
                    m.peerAlive(other.nodeId(), other.localAddress());
                }
            }
        }
    }

    Messenger get(int i) {
        return all.get(i);
    }

    @Override
    public void close() {
        for (Messenger m : all) {
            m.close();
        }
    }
}
