package io.hacluster.gossip.cli;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The command line of {@link GossipAgent}, parsed and checked.
 *
 * @param name             node name, unique in the cluster
 * @param bind             UDP and TCP bind address; port 0 picks a free port
 * @param advertise        address given to peers, or {@code null} to derive it from {@code bind}
 * @param joins            seeds to join at start; empty starts a new cluster
 * @param preset           lan, wan or local (memberlist's timing presets)
 * @param label            cluster label, {@code ""} for none
 * @param protocolVersion  memberlist protocol version spoken (2..5)
 * @param delegateMin      lowest application (delegate) protocol version understood
 * @param delegateVersion  application protocol version spoken
 * @param delegateMax      highest application protocol version understood
 * @param leaveTimeout     how long a graceful leave may take on SIGTERM
 * @param tcpTimeout       TCP timeout (join and push/pull, reliable sends), or {@code null} for the
 *                         preset's
 */
record AgentOptions(String name, InetSocketAddress bind, InetSocketAddress advertise,
                    List<InetSocketAddress> joins, String preset, String label, int protocolVersion,
                    int delegateMin, int delegateVersion, int delegateMax, Duration leaveTimeout,
                    Duration tcpTimeout) {

    static final String USAGE = """
            usage: GossipAgent --name NAME [options]
              --name NAME                  node name, unique in the cluster (required)
              --bind HOST:PORT             UDP+TCP bind address (default 0.0.0.0:7946; port 0 = any free port)
              --advertise HOST:PORT        address peers should use (default: derived from --bind)
              --join HOST:PORT             seed to join at start; repeatable
              --preset lan|wan|local       memberlist timing preset (default lan)
              --label LABEL                cluster label; nodes with another label are ignored
              --protocol N                 memberlist protocol version to speak, 2..5 (default 2)
              --delegate-protocol MIN:CUR:MAX
                                           application protocol versions (default 0:0:0;
                                           use 2:4:5 to share a ring with serf agents)
              --leave-timeout SECONDS      bound on the graceful leave at SIGTERM (default 5)
              --tcp-timeout MILLIS         TCP timeout for join, push/pull and reliable sends
                                           (default: the preset's; local's 1 s is tight for a
                                           cold JVM on a busy host)
            Prints one JSON line per membership event on stdout:
              {"event":"join|leave|update|dead","name":"...","address":"host:port"}
            """;

    /** Parses {@code args}; throws {@link IllegalArgumentException} with a readable message. */
    static AgentOptions parse(String... args) {
        String name = null;
        InetSocketAddress bind = new InetSocketAddress("0.0.0.0", 7946);
        InetSocketAddress advertise = null;
        List<InetSocketAddress> joins = new ArrayList<>();
        String preset = "lan";
        String label = "";
        int protocol = 2;
        int[] delegate = {0, 0, 0};
        Duration leaveTimeout = Duration.ofSeconds(5);
        Duration tcpTimeout = null;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            String value = i + 1 < args.length ? args[i + 1] : null;
            if (flag.equals("--help") || flag.equals("-h")) {
                throw new IllegalArgumentException("");
            }
            if (value == null) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            i++;
            switch (flag) {
                case "--name" -> name = value;
                case "--bind" -> bind = hostPort(flag, value);
                case "--advertise" -> advertise = hostPort(flag, value);
                case "--join" -> joins.add(hostPort(flag, value));
                case "--preset" -> {
                    preset = value.toLowerCase(Locale.ROOT);
                    if (!List.of("lan", "wan", "local").contains(preset)) {
                        throw new IllegalArgumentException("--preset must be lan, wan or local, not " + value);
                    }
                }
                case "--label" -> label = value;
                case "--protocol" -> protocol = integer(flag, value);
                case "--delegate-protocol" -> delegate = delegateVersions(value);
                case "--leave-timeout" -> leaveTimeout = Duration.ofSeconds(integer(flag, value));
                case "--tcp-timeout" -> {
                    int millis = integer(flag, value);
                    if (millis < 1) {
                        throw new IllegalArgumentException("--tcp-timeout must be at least 1 ms, not " + value);
                    }
                    tcpTimeout = Duration.ofMillis(millis);
                }
                default -> throw new IllegalArgumentException("unknown option " + flag);
            }
        }
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("--name is required");
        }
        return new AgentOptions(name, bind, advertise, List.copyOf(joins), preset, label, protocol,
                delegate[0], delegate[1], delegate[2], leaveTimeout, tcpTimeout);
    }

    private static InetSocketAddress hostPort(String flag, String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException(flag + " expects HOST:PORT, not " + value);
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = integer(flag, value.substring(colon + 1));
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException(flag + " port out of range: " + port);
        }
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new IllegalArgumentException(flag + " host does not resolve: " + host);
        }
        return address;
    }

    private static int[] delegateVersions(String value) {
        String[] parts = value.split(":");
        if (parts.length != 3) {
            throw new IllegalArgumentException("--delegate-protocol expects MIN:CUR:MAX, not " + value);
        }
        return new int[] {integer("--delegate-protocol", parts[0]), integer("--delegate-protocol", parts[1]),
                integer("--delegate-protocol", parts[2])};
    }

    private static int integer(String flag, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " expects a number, not " + value);
        }
    }
}
