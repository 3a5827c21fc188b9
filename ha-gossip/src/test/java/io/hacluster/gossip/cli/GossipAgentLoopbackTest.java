package io.hacluster.gossip.cli;

import io.hacluster.gossip.GossipConfig;
import io.hacluster.gossip.LoopbackTimeouts;
import io.hacluster.gossip.Member;
import io.hacluster.gossip.MemberState;
import io.hacluster.gossip.Memberlist;
import io.hacluster.gossip.netty.NettyTransport;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The agent as operators run it: a separate JVM, real SIGTERM, JSON lines on stdout, talking to
 * in-JVM Memberlist nodes over 127.0.0.1.
 */
class GossipAgentLoopbackTest {
    private static final Duration WAIT = Duration.ofSeconds(40);

    private static Memberlist node(String name) {
        GossipConfig config = GossipConfig.local(name).toBuilder().bindHost("127.0.0.1").bindPort(0)
                .tcpTimeout(LoopbackTimeouts.TCP_TIMEOUT).build();
        return Memberlist.builder(config).transport(NettyTransport.bind(config)).build();
    }

    /** The agent JVM, its stdout lines kept as they arrive. */
    private static final class AgentProcess implements AutoCloseable {
        final Process process;
        final List<String> lines = new CopyOnWriteArrayList<>();
        final StringBuffer stderr = new StringBuffer();

        AgentProcess(String... args) throws IOException {
            String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
            List<String> command = new ArrayList<>(List.of(
                    System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                    "-Xmx96m", "-XX:TieredStopAtLevel=1", "-Djava.net.preferIPv4Stack=true",
                    "-Dlogback.configurationFile=" + getClass().getResource("/logback-test.xml"),
                    "-cp", classpath, GossipAgent.class.getName()));
            command.addAll(List.of(args));
            process = new ProcessBuilder(command).start();
            pump(new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)), lines::add);
            pump(new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)),
                    line -> stderr.append(line).append('\n'));
        }

        private static void pump(BufferedReader reader, java.util.function.Consumer<String> sink) {
            Thread t = new Thread(() -> {
                try (reader) {
                    String line;
                    while ((line = reader.readLine()) != null) {
                        sink.accept(line);
                    }
                } catch (IOException ignored) {
                    // process ended
                }
            }, "ha-test-agent-pump");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    private static String line(String event, Member m) {
        return "{\"event\":\"" + event + "\",\"name\":\"" + m.name() + "\",\"address\":\"127.0.0.1:"
                + m.address().getPort() + "\"}";
    }

    @Test
    void agentPrintsEventsAsJsonLinesAndLeavesGracefullyOnSigterm() throws Exception {
        Memberlist seed = node("seed");
        Memberlist doomed = node("doomed");
        try (AgentProcess agent = new AgentProcess("--name", "agent-1", "--bind", "127.0.0.1:0",
                "--preset", "local", "--tcp-timeout", String.valueOf(LoopbackTimeouts.TCP_TIMEOUT.toMillis()),
                "--join", "127.0.0.1:" + seed.advertiseAddress().getPort())) {
            doomed.join(List.of(seed.advertiseAddress())).get(LoopbackTimeouts.JOIN_WAIT.toSeconds(),
                    TimeUnit.SECONDS);

            await("agent joined").atMost(WAIT).untilAsserted(() -> {
                Member a = seed.member("agent-1");
                assertThat(a).isNotNull();
                assertThat(a.state()).isEqualTo(MemberState.ALIVE);
                assertThat(agent.lines).contains(line("join", seed.localMember()), line("join", doomed.localMember()),
                        line("join", a));
            });
            // The agent's own join line comes first and carries the port it bound (port 0 was asked for).
            assertThat(agent.lines.get(0)).isEqualTo(line("join", seed.member("agent-1")));

            // A crashed peer is reported dead.
            doomed.shutdown();
            await("dead line").atMost(WAIT).untilAsserted(() ->
                    assertThat(agent.lines).contains(line("dead", doomed.localMember())));

            // SIGTERM: the agent leaves gracefully, so the seed records LEFT, not DEAD.
            agent.process.toHandle().destroy();  // Process.destroy() would also close our end of its output
            assertThat(agent.process.waitFor(20, TimeUnit.SECONDS)).as("agent exits; stderr: %s", agent.stderr).isTrue();
            await("left").atMost(WAIT).untilAsserted(() -> {
                Member gone = seed.member("agent-1");  // null (forgotten) must fail the wait, not throw out of it
                assertThat(gone).as("seed's entry for agent-1").isNotNull();
                assertThat(gone.state()).isEqualTo(MemberState.LEFT);
            });
            assertThat(agent.lines).allMatch(l -> l.matches("\\{\"event\":\"(join|leave|update|dead)\",\"name\":\"[^\"]+\",\"address\":\"127\\.0\\.0\\.1:\\d+\"}"));
        } finally {
            seed.shutdown();
            doomed.shutdown();
        }
    }

    @Test
    void badCommandLinesAndUnreachableSeedsExitWithAnError() throws Exception {
        try (AgentProcess noName = new AgentProcess("--bind", "127.0.0.1:0")) {
            assertThat(noName.process.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(noName.process.exitValue()).isEqualTo(2);
            assertThat(noName.stderr.toString()).contains("--name is required").contains("usage:");
        }
        int closedPort;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        try (AgentProcess lonely = new AgentProcess("--name", "lonely", "--bind", "127.0.0.1:0", "--preset", "local",
                "--join", "127.0.0.1:" + closedPort)) {
            assertThat(lonely.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(lonely.process.exitValue()).isEqualTo(1);
            assertThat(lonely.stderr.toString()).contains("no seed answered");
        }
    }

    @Test
    void optionsAreParsedAndCheckedBeforeAnythingStarts() {
        AgentOptions o = AgentOptions.parse("--name", "x", "--bind", "127.0.0.1:0", "--join", "127.0.0.1:7000",
                "--join", "[::1]:7001", "--preset", "WAN", "--label", "prod", "--delegate-protocol", "2:4:5",
                "--protocol", "3", "--tcp-timeout", "2500");
        assertThat(o.joins()).containsExactly(new InetSocketAddress("127.0.0.1", 7000), new InetSocketAddress("::1", 7001));
        assertThat(o.preset()).isEqualTo("wan");
        GossipConfig c = GossipAgent.config(o);
        assertThat(c.label()).isEqualTo("prod");
        assertThat(c.protocolVersion()).isEqualTo(3);
        assertThat(c.delegateProtocolMin()).isEqualTo(2);
        assertThat(c.delegateProtocolVersion()).isEqualTo(4);
        assertThat(c.delegateProtocolMax()).isEqualTo(5);
        assertThat(c.probeInterval()).isEqualTo(GossipConfig.wan("x").probeInterval());
        assertThat(c.tcpTimeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(GossipAgent.config(AgentOptions.parse("--name", "x", "--preset", "local")).tcpTimeout())
                .isEqualTo(GossipConfig.local("x").tcpTimeout());
        assertThatThrownBy(() -> AgentOptions.parse("--name", "x", "--tcp-timeout", "0")).hasMessageContaining("--tcp-timeout");
        assertThatThrownBy(() -> AgentOptions.parse("--name", "x", "--preset", "fast")).hasMessageContaining("--preset");
        assertThatThrownBy(() -> AgentOptions.parse("--name", "x", "--bind", "nocolon")).hasMessageContaining("HOST:PORT");
        assertThatThrownBy(() -> AgentOptions.parse("--name", "x", "--bind", "127.0.0.1:70000")).hasMessageContaining("range");
        assertThatThrownBy(() -> AgentOptions.parse("--name")).hasMessageContaining("needs a value");
        assertThatThrownBy(() -> AgentOptions.parse("--name", "x", "--frobnicate", "1")).hasMessageContaining("unknown option");
        assertThat(EventLine.quote("a\"b\\c\n\u0001")).isEqualTo("\"a\\\"b\\\\c\\n\\u0001\"");
    }
}
