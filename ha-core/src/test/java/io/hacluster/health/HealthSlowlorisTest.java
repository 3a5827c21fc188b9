package io.hacluster.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Slowloris against the health endpoint: one source (127.0.0.2) keeps 64 connections open and
 * trickles a request into each at one byte a second, reconnecting whatever is closed, for 8 s
 * (past the whole-request deadline). Meanwhile a load balancer at 127.0.0.1 probes four times a
 * second: every probe is answered 200. (The landed endpoint answered none for the whole attack.)
 */
class HealthSlowlorisTest {

    private static final int ATTACK_CONNECTIONS = 64;
    private static final int ROUNDS = 8;  // one byte per connection per round, a round a second
    private static final byte[] REQUEST = "GET /api/v4/system/ping HTTP/1.1\r\nHost: x\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    private final HealthServer server = new HealthServer(new InetSocketAddress("127.0.0.1", 0), new HealthSource() {
        @Override
        public boolean healthy() {
            return true;
        }

        @Override
        public Object clusterStatus() {
            return java.util.Map.of();
        }
    }, "ha-test-health", new HealthLimits(64, 8, Duration.ofSeconds(3)));
    private final List<Socket> attack = new ArrayList<>();

    @AfterEach
    void stop() throws IOException {
        for (Socket s : attack) {
            if (s != null) {
                s.close();
            }
        }
        server.close();
    }

    /** A connection of the attacker, from 127.0.0.2; null if the server refused it outright. */
    private Socket attackerConnection() {
        Socket s = new Socket();
        try {
            s.bind(new InetSocketAddress("127.0.0.2", 0));
            s.connect(new InetSocketAddress("127.0.0.1", server.address().getPort()), 2000);
            return s;
        } catch (IOException e) {
            try {
                s.close();
            } catch (IOException ignored) {
                // nothing to do
            }
            return null;
        }
    }

    private String probe() throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", server.address().getPort()), 2000);
            s.setSoTimeout(2000);
            s.getOutputStream().write(REQUEST);
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            return answer.isEmpty() ? "(closed without an answer)" : answer.substring(0, answer.indexOf('\r'));
        }
    }

    @Test
    void probesFromAnotherSourceAreAnsweredWhileOneSourceHoldsSixtyFourSlowConnections() throws Exception {
        server.start();
        int[] progress = new int[ATTACK_CONNECTIONS];
        for (int i = 0; i < ATTACK_CONNECTIONS; i++) {
            attack.add(attackerConnection());
        }
        List<String> answers = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            long roundEnd = System.nanoTime() + 1_000_000_000L;
            for (int i = 0; i < ATTACK_CONNECTIONS; i++) {
                Socket s = attack.get(i);
                if (s == null || !trickle(s, progress[i])) {
                    if (s != null) {
                        s.close();
                    }
                    attack.set(i, attackerConnection());  // closed by the server: come back, as slowloris does
                    progress[i] = 0;
                } else {
                    progress[i]++;
                }
            }
            while (System.nanoTime() < roundEnd) {
                answers.add(probe());
                Thread.sleep(250);  // the probe interval of a load balancer, not a wait for a condition
            }
        }
        System.out.printf("slowloris: %d probes, rejected on accept %d, closed at the deadline %d%n",
                answers.size(), server.rejectedConnections(), server.deadlineCloses());
        assertThat(answers).hasSizeGreaterThanOrEqualTo(ROUNDS).allMatch(a -> a.equals("HTTP/1.1 200 OK"));
        assertThat(server.rejectedConnections()).as("the attacker's connections beyond its share").isPositive();
        assertThat(server.deadlineCloses()).as("trickled requests cut off at the deadline").isPositive();
    }

    /** Sends the next byte of the request; false when the server has closed the connection. */
    private static boolean trickle(Socket s, int at) {
        try {
            OutputStream out = s.getOutputStream();
            out.write(REQUEST[Math.min(at, REQUEST.length - 3)]);  // never the final CRLF: never complete
            out.flush();
            s.setSoTimeout(1);
            try {
                return s.getInputStream().read() != -1;
            } catch (java.net.SocketTimeoutException stillOpen) {
                return true;
            }
        } catch (IOException e) {
            return false;
        }
    }
}
