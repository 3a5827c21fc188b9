package io.hacluster.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks TCP ports on 127.0.0.1 for servers that bind them later and must keep them across
 * restarts.
 *
 * <p>Ports come from 20000-32767, below Linux's ephemeral range (32768-60999): a port from the
 * ephemeral range could be taken, between a server's stop and its restart, as the local port of
 * some outgoing connection. Ports handed out by this JVM are not handed out again.
 */
final class FreePorts {

    private static final int LOW = 20_000;
    private static final int HIGH = 32_767;
    private static final Set<Integer> handedOut = ConcurrentHashMap.newKeySet();

    private FreePorts() {}

    static int pick() {
        for (int attempt = 0; attempt < 1_000; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOW, HIGH + 1);
            if (!handedOut.contains(port) && isFree(port) && handedOut.add(port)) {
                return port;
            }
        }
        throw new PostgresTestkitException("No free TCP port on 127.0.0.1 in " + LOW + "-" + HIGH);
    }

    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
