package io.hacluster.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.hacluster.identity.NodeId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A graceful leave and a graceful restart as production sees them: three nodes, each a child JVM,
 * all sending reliable broadcasts; the node whose id sorts lowest (the dialer of both its links)
 * gets SIGTERM, so its shutdown hook closes it (drain, leave). Every sender's messages to it are
 * either acknowledged, and then were handled, or fail with PeerUnavailableException within 2 s of
 * the SIGTERM; nothing is handled twice, even by the same node id restarted; no send stays pending
 * past its deadline.
 */
class GracefulDepartureProcessTest {

    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration START = Duration.ofSeconds(60);
    private static final long FAIL_WITHIN_MILLIS = 2000;

    @TempDir
    Path dir;
    private final List<ChildNode> children = new ArrayList<>();
    private final String cluster = "p-" + UUID.randomUUID().toString().substring(0, 8);

    @AfterEach
    void killAll() throws InterruptedException {
        for (ChildNode c : children) {
            c.close();
        }
    }

    private record Slot(String id, Path idFile, int gossipPort, int streamingPort) {
    }

    /** Three node ids, sorted: the first is the lowest and dials both of its links. */
    private List<Slot> slots() throws IOException {
        List<String> ids = new ArrayList<>(List.of(NodeId.generate(), NodeId.generate(), NodeId.generate()));
        ids.sort(Comparator.naturalOrder());
        List<Slot> out = new ArrayList<>();
        for (String id : ids) {
            Path f = dir.resolve(id + ".id");
            Files.writeString(f, id + "\n", StandardCharsets.US_ASCII);
            out.add(new Slot(id, f, freePort(), freePort()));
        }
        return out;
    }

    private ChildNode start(String name, Slot s, Slot seed) throws Exception {
        ChildNode c = ChildNode.start(name, cluster, s.idFile(), s.gossipPort(), s.streamingPort(),
                seed == null ? "" : "127.0.0.1:" + seed.gossipPort(), SEND_TIMEOUT);
        children.add(c);
        c.await(l -> l.equals("READY " + s.id()), START, "READY");
        return c;
    }

    private static void awaitAlive(ChildNode c, Slot s, Duration timeout) throws InterruptedException {
        c.await(l -> l.startsWith("M " + s.id() + " ALIVE"), timeout, s.id() + " alive");
    }

    @Test
    void theLowestIdLeavesUnderLoadAndEveryMessageToItIsSettledHonestly() throws Exception {
        List<Slot> s = slots();
        ChildNode mid = start("mid", s.get(1), null);
        ChildNode high = start("high", s.get(2), s.get(1));
        ChildNode low = start("low", s.get(0), s.get(1));
        for (ChildNode c : List.of(mid, high, low)) {
            for (Slot other : s) {
                awaitAlive(c, other, START);
            }
        }
        for (ChildNode c : List.of(mid, high, low)) {
            c.command("SEND 1000000 2");
        }
        for (ChildNode c : List.of(mid, high)) {
            c.await(l -> l.startsWith("R ") && l.contains(" " + s.get(0).id() + " OK") && c.count(x -> x.startsWith("R ")) > 300,
                    START, "traffic to the low node");
        }

        long sigterm = System.currentTimeMillis();
        low.terminate();
        assertThat(low.awaitExit(Duration.ofSeconds(30))).as("the low node exits after SIGTERM: %s", low.tail()).isTrue();
        for (ChildNode c : List.of(mid, high)) {
            c.await(l -> l.startsWith("M " + s.get(0).id() + " LEFT"), Duration.ofSeconds(10), "low LEFT");
        }
        settle(List.of(mid, high));

        Set<String> handledByLow = handled(low);
        for (ChildNode sender : List.of(mid, high)) {
            checkOutcomes(sender, s.get(0).id(), sigterm, handledByLow);
        }
        assertNoDuplicates(List.of(mid, high, low));
    }

    @Test
    void aGracefulRestartWithTheSameIdHandlesNothingTwice() throws Exception {
        List<Slot> s = slots();
        ChildNode mid = start("mid", s.get(1), null);
        ChildNode high = start("high", s.get(2), s.get(1));
        ChildNode low = start("low", s.get(0), s.get(1));
        for (ChildNode c : List.of(mid, high, low)) {
            for (Slot other : s) {
                awaitAlive(c, other, START);
            }
        }
        for (ChildNode c : List.of(mid, high)) {
            c.command("SEND 1000000 2");
        }
        for (ChildNode c : List.of(mid, high)) {
            c.await(l -> l.startsWith("R ") && c.count(x -> x.startsWith("R ") && x.contains(" OK")) > 300,
                    START, "traffic");
        }
        long sigterm = System.currentTimeMillis();
        low.terminate();
        assertThat(low.awaitExit(Duration.ofSeconds(30))).as("the low node exits after SIGTERM: %s", low.tail()).isTrue();

        // the same id from its NodeIdFile, the same ports: a deploy restarting the process
        ChildNode again = start("low-again", s.get(0), s.get(1));
        for (ChildNode c : List.of(mid, high)) {
            // ALIVE again after the LEFT: the member line of the restarted process
            c.await(l -> l.startsWith("M " + s.get(0).id() + " LEFT"), START, "low LEFT");
            awaitAliveAfterLeft(c, s.get(0).id());
        }
        again.await(l -> l.startsWith("H "), START, "the restarted node handles traffic again");
        settle(List.of(mid, high));

        Set<String> handledByLow = handled(low);
        handledByLow.addAll(handled(again));
        for (ChildNode sender : List.of(mid, high)) {
            checkOutcomes(sender, s.get(0).id(), sigterm, handledByLow);
        }
        // the same node id across both processes never handled one message twice
        List<ChildNode> both = List.of(low, again);
        Map<String, Integer> seen = new HashMap<>();
        for (ChildNode c : both) {
            for (String[] h : c.fields("H")) {
                seen.merge(h[2], 1, Integer::sum);
            }
        }
        assertThat(seen.entrySet()).filteredOn(e -> e.getValue() > 1).as("messages the low id handled twice").isEmpty();
        assertNoDuplicates(List.of(mid, high));
    }

    private static void awaitAliveAfterLeft(ChildNode c, String id) throws InterruptedException {
        long deadline = System.nanoTime() + START.toNanos();
        while (System.nanoTime() < deadline) {
            List<String> lines = List.copyOf(c.lines);
            int left = -1;
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).startsWith("M " + id + " LEFT")) {
                    left = i;
                }
            }
            for (int i = left + 1; left >= 0 && i < lines.size(); i++) {
                if (lines.get(i).startsWith("M " + id + " ALIVE")) {
                    return;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError(c.name + ": " + id + " not ALIVE again after its LEFT; last lines: " + c.tail());
    }

    /** Stops the senders and waits until none of their sends is pending; none outlived its deadline. */
    private static void settle(List<ChildNode> senders) throws Exception {
        Thread.sleep(500);  // half a second more traffic after the departure was seen
        for (ChildNode c : senders) {
            c.command("STOP");
        }
        for (ChildNode c : senders) {
            long deadline = System.nanoTime() + SEND_TIMEOUT.plusSeconds(10).toNanos();
            String last = null;
            while (System.nanoTime() < deadline) {
                int before = c.lines.size();
                c.command("PENDING");
                last = c.await(l -> l.startsWith("PENDING "), Duration.ofSeconds(10), "PENDING");
                String[] w = last.split(" ");
                assertThat(Long.parseLong(w[2])).as("oldest pending send of %s, ms", c.name)
                        .isLessThanOrEqualTo(SEND_TIMEOUT.toMillis() + 1000);
                if (w[1].equals("0") && c.lines.size() > before) {
                    break;
                }
                c.lines.removeIf(l -> l.startsWith("PENDING "));
                Thread.sleep(100);
            }
            assertThat(last).as("%s: every send settled", c.name).startsWith("PENDING 0 ");
        }
    }

    private static Set<String> handled(ChildNode c) {
        Set<String> out = new HashSet<>();
        for (String[] h : c.fields("H")) {
            out.add(h[2]);  // sender:seq
        }
        return out;
    }

    /**
     * Each message {@code sender} addressed to {@code target}: acknowledged only if the target
     * handled it, otherwise failed with PeerUnavailableException no later than 2 s after SIGTERM.
     */
    private static void checkOutcomes(ChildNode sender, String target, long sigterm, Set<String> handledByTarget) {
        String senderId = sender.lines.stream().filter(l -> l.startsWith("READY ")).findFirst().orElseThrow()
                .substring(6);
        int acked = 0;
        int failed = 0;
        for (String[] r : sender.fields("R")) {
            if (!r[2].equals(target)) {
                assertThat(r[3]).as("%s: message %s to the staying node %s", sender.name, r[1], r[2]).isEqualTo("OK");
                continue;
            }
            if (r[3].equals("OK")) {
                acked++;
                assertThat(handledByTarget).as("%s: message %s acknowledged by the leaving node", sender.name, r[1])
                        .contains(senderId + ":" + r[1]);
            } else {
                failed++;
                assertThat(r[4]).as("%s: message %s to the leaving node", sender.name, r[1])
                        .isEqualTo("PeerUnavailableException");
                assertThat(Long.parseLong(r[5]) - sigterm).as("%s: message %s failed ms after SIGTERM", sender.name, r[1])
                        .isLessThanOrEqualTo(FAIL_WITHIN_MILLIS);
            }
        }
        assertThat(acked).as("%s: messages the leaving node acknowledged", sender.name).isGreaterThan(100);
        // and the other way round: whatever the leaving node handled, it acknowledged, so nobody
        // reports as failed (and retries) work that was done
        Set<String> okSeqs = new HashSet<>();
        for (String[] r : sender.fields("R")) {
            if (r[2].equals(target) && r[3].equals("OK")) {
                okSeqs.add(r[1]);
            }
        }
        for (String h : handledByTarget) {
            if (h.startsWith(senderId + ":")) {
                assertThat(okSeqs).as("%s: message %s was handled by the leaving node", sender.name, h)
                        .contains(h.substring(senderId.length() + 1));
            }
        }
        System.out.printf("%s -> leaving node: %d acknowledged, %d failed with PeerUnavailableException%n",
                sender.name, acked, failed);
    }

    /** No node handled one message twice. */
    private static void assertNoDuplicates(List<ChildNode> nodes) {
        for (ChildNode c : nodes) {
            Map<String, Integer> seen = new HashMap<>();
            for (String[] h : c.fields("H")) {
                seen.merge(h[2], 1, Integer::sum);
            }
            assertThat(seen.entrySet()).filteredOn(e -> e.getValue() > 1).as("%s handled twice", c.name).isEmpty();
        }
    }

    /** A port free for TCP and UDP on loopback; shared with the other process tests. */
    static int freePort() {
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
