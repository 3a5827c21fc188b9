package io.hacluster.bench.messaging;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.blocks.MessageDispatcher;
import org.jgroups.blocks.RequestOptions;
import org.jgroups.blocks.ResponseMode;

/**
 * Three JGroups channels with the stock {@code tcp.xml} stack, bound to 127.0.0.1 with
 * TCPPING over the three ports (no multicast). A broadcast is a {@link MessageDispatcher} cast
 * to the two other members in GET_ALL mode: it completes when both handlers returned, the same
 * meaning as a reliable {@code waitForAllToSend} send.
 */
final class JGroupsCluster implements BroadcastCluster {

    private final List<JChannel> channels = new ArrayList<>();
    private final List<MessageDispatcher> dispatchers = new ArrayList<>();
    private final List<List<Address>> others = new ArrayList<>();
    private final LongAdder delivered = new LongAdder();
    private final RequestOptions opts = new RequestOptions(ResponseMode.GET_ALL, 60_000);

    JGroupsCluster() throws Exception {
        int[] ports = freePorts(3);
        StringBuilder hosts = new StringBuilder();
        for (int p : ports) {
            hosts.append(hosts.length() == 0 ? "" : ",").append("127.0.0.1[").append(p).append(']');
        }
        System.setProperty("jgroups.bind_addr", "127.0.0.1");
        System.setProperty("jgroups.tcpping.initial_hosts", hosts.toString());
        System.setProperty("jgroups.tcp.port_range", "0");
        System.setProperty("java.net.preferIPv4Stack", "true");
        for (int i = 0; i < 3; i++) {
            System.setProperty("jgroups.bind_port", Integer.toString(ports[i]));
            JChannel ch = new JChannel("tcp.xml").name("jg-" + i);
            MessageDispatcher d = new MessageDispatcher(ch, msg -> {
                delivered.increment();
                return null;
            });
            ch.connect("bench");
            channels.add(ch);
            dispatchers.add(d);
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (channels.stream().anyMatch(c -> c.getView().size() < 3)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("JGroups view did not reach 3 members");
            }
            Thread.sleep(50);
        }
        for (JChannel c : channels) {
            List<Address> o = new ArrayList<>(c.getView().getMembers());
            o.remove(c.getAddress());
            others.add(o);
        }
    }

    private static int[] freePorts(int n) throws IOException {
        int[] ports = new int[n];
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(s);
                ports[i] = s.getLocalPort();
            }
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
        return ports;
    }

    @Override
    public String name() {
        return "JGroups 5.3.13 tcp.xml";
    }

    @Override
    public CompletableFuture<?> broadcast(int from, byte[] payload) {
        try {
            return dispatchers.get(from).castMessageWithFuture(others.get(from), new BytesMessage(null, payload), opts);
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public long delivered() {
        return delivered.sum();
    }

    @Override
    public void close() throws IOException {
        for (int i = channels.size() - 1; i >= 0; i--) {
            dispatchers.get(i).close();
            channels.get(i).close();
        }
    }
}
