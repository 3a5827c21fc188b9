package io.hacluster.messaging;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A separate process (so the test JVM's descriptor count is the server's alone) that opens up to
 * {@code count} TCP connections to {@code host:port}, sends nothing, and holds them until its
 * standard input closes. Bounded: each connect has a 2 s timeout, the whole loop 120 s. Prints
 * {@code HELD <opened>} once done.
 */
public final class HalfOpenAttacker {

    private HalfOpenAttacker() {
    }

    public static void main(String[] args) throws IOException {
        InetSocketAddress target = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        int count = Integer.parseInt(args[2]);
        long deadline = System.nanoTime() + 120_000_000_000L;
        List<Socket> held = new ArrayList<>(count);
        int opened = 0;
        for (int i = 0; i < count && System.nanoTime() < deadline; i++) {
            Socket s = new Socket();
            try {
                s.connect(target, 2000);
                opened++;
                held.add(s);
            } catch (IOException e) {
                s.close();
            }
        }
        System.out.println("HELD " + opened);
        System.out.flush();
        while (System.in.read() >= 0) {
            // hold until the test closes our input
        }
        for (Socket s : held) {
            s.close();
        }
    }
}
