package io.hacluster.testkit.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ports on 127.0.0.1 that are free for TCP and UDP now (gossip binds both on one port) and were
 * not handed out before by this JVM, so a node restarted on its old ports does not collide with
 * a node of another test that started meanwhile.
 */
final class LoopbackPorts {

    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private LoopbackPorts() {
    }

    static int tcpAndUdp() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket tcp = new ServerSocket()) {
                tcp.setReuseAddress(false);
                tcp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                int port = tcp.getLocalPort();
                if (HANDED_OUT.contains(port)) {
                    continue;
                }
                try (DatagramSocket udp = new DatagramSocket(
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                    udp.getLocalPort();
                } catch (IOException udpTaken) {
                    continue;
                }
                if (HANDED_OUT.add(port)) {
                    return port;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no free TCP+UDP port found on 127.0.0.1 in 100 attempts");
    }
}
