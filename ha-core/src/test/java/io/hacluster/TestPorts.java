package io.hacluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

/** Free ports on 127.0.0.1 for tests: free for TCP and, for gossip, for UDP as well. */
final class TestPorts {

    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private TestPorts() {
    }

    /** A port that is free for both TCP and UDP right now and was not handed out before. */
    static synchronized int tcpAndUdp() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket tcp = new ServerSocket()) {
                tcp.setReuseAddress(false);
                tcp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                int port = tcp.getLocalPort();
                if (HANDED_OUT.contains(port)) {
                    continue;
                }
                DatagramSocket udp;
                try {
                    udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                } catch (IOException udpTaken) {
                    continue;
                }
                udp.close();
                HANDED_OUT.add(port);
                return port;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no free TCP+UDP port found on 127.0.0.1");
    }
}
