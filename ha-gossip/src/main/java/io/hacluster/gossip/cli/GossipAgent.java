package io.hacluster.gossip.cli;

import io.hacluster.gossip.GossipConfig;
import io.hacluster.gossip.Member;
import io.hacluster.gossip.MemberState;
import io.hacluster.gossip.Memberlist;
import io.hacluster.gossip.MembershipListener;
import io.hacluster.gossip.netty.NettyTransport;

import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A stand-alone gossip node for operators and interop tests: one memberlist-compatible member
 * over {@link NettyTransport}. Prints one JSON line per membership event on stdout, flushed at
 * once, and leaves the cluster gracefully on SIGTERM or SIGINT (bounded by
 * {@code --leave-timeout}). Diagnostics go to stderr. Exit status: 1 when no seed answered the
 * join, 2 on a bad command line; after a signal the JVM's usual 143/130.
 *
 * <pre>
 * java -cp ha-gossip-0.1.0-SNAPSHOT.jar:$(cat cp.txt) io.hacluster.gossip.cli.GossipAgent \
 *      --name n1 --bind 127.0.0.1:7946 --join 127.0.0.1:7947 --preset lan
 * </pre>
 */
public final class GossipAgent {

    private GossipAgent() {
    }

    public static void main(String[] args) throws InterruptedException {
        AgentOptions options;
        try {
            options = AgentOptions.parse(args);
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().isEmpty()) {
                System.err.println("error: " + e.getMessage());
            }
            System.err.print(AgentOptions.USAGE);
            System.exit(2);
            return;
        }
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        Memberlist node;
        try {
            GossipConfig config = config(options);
            node = Memberlist.builder(config)
                    .transport(NettyTransport.bind(config))
                    .membershipListener(new JsonLines(out))
                    .build();
        } catch (RuntimeException e) {
            System.err.println("error: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            leaveGracefully(node, options.leaveTimeout());
            stopped.countDown();
        }, "ha-" + options.name() + "-agent-exit"));

        if (!options.joins().isEmpty()) {
            Duration bound = node.config().tcpTimeout().multipliedBy(options.joins().size()).plusSeconds(5);
            try {
                int contacted = node.join(options.joins()).get(bound.toMillis(), TimeUnit.MILLISECONDS);
                System.err.println("joined through " + contacted + " of " + options.joins().size() + " seeds");
            } catch (ExecutionException | TimeoutException e) {
                System.err.println("error: no seed answered the join: "
                        + (e.getCause() != null ? e.getCause().getMessage() : e.toString()));
                node.shutdown();
                System.exit(1);
                return;
            }
        }
        stopped.await();
    }

    static GossipConfig config(AgentOptions o) {
        GossipConfig.Builder b = GossipConfig.preset(o.preset(), o.name()).toBuilder()
                .bindHost(o.bind().getAddress().getHostAddress())
                .bindPort(o.bind().getPort())
                .label(o.label())
                .protocolVersion(o.protocolVersion())
                .delegateProtocol(o.delegateMin(), o.delegateVersion(), o.delegateMax());
        if (o.tcpTimeout() != null) {
            b.tcpTimeout(o.tcpTimeout());
        }
        if (o.advertise() != null) {
            b.advertiseHost(o.advertise().getAddress().getHostAddress()).advertisePort(o.advertise().getPort());
        }
        return b.build();
    }

    private static void leaveGracefully(Memberlist node, Duration timeout) {
        try {
            node.leave(timeout).get(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            System.err.println("leave did not complete: " + (e.getCause() != null ? e.getCause() : e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            node.shutdown();
        }
    }

    /** Writes each event as one flushed JSON line; called in order on the gossip thread. */
    private static final class JsonLines implements MembershipListener {
        private final PrintStream out;

        JsonLines(PrintStream out) {
            this.out = out;
        }

        @Override
        public void onJoin(Member member) {
            print("join", member);
        }

        @Override
        public void onLeave(Member member) {
            print(member.state() == MemberState.LEFT ? "leave" : "dead", member);
        }

        @Override
        public void onUpdate(Member member) {
            print("update", member);
        }

        private void print(String event, Member member) {
            out.println(EventLine.format(event, member));
            out.flush();
        }
    }
}
