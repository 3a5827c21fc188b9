package io.hacluster.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

/**
 * Picks ports on 127.0.0.1 that are free for both TCP and UDP at the moment of the call (gossip
 * needs both on the same number). Ports handed out once are not handed out again by this JVM,
 * so nodes started one after the other never get the same number.
 */
public final class FreePorts {

    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private FreePorts() {
    }

    /** A port free for TCP and UDP on 127.0.0.1 now, never handed out before by this JVM. */
    public static synchronized int tcpAndUdp() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket tcp = new ServerSocket()) {
                tcp.setReuseAddress(false);
                tcp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                int port = tcp.getLocalPort();
                if (HANDED_OUT.contains(port)) {
                    continue;
                }
                try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                    udp.getLocalPort();
                } catch (IOException udpTaken) {
                    continue;
                }
                HANDED_OUT.add(port);
                return port;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no free TCP+UDP port found on 127.0.0.1 after 100 attempts");
    }
}
