package io.hacluster;

import io.hacluster.gossip.CrashProbeResult;
import io.hacluster.gossip.Memberlist;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the messenger's "a peer's streaming connection ended abruptly" into a gossip crash probe
 * ({@link Memberlist#probeCrash}): gossip pings the peer at once by every path and connects to
 * its gossip port and to its streaming port (the redial); it is declared dead at once only when
 * both refuse and no path answers. Anything else leaves it to gossip's ordinary suspicion.
 * Runs on a messaging I/O thread and only hands off; never blocks.
 */
final class CrashEvidence {

    private static final Logger LOG = LoggerFactory.getLogger(CrashEvidence.class);

    private final String self;
    private final Supplier<Memberlist> gossip;

    CrashEvidence(String self, Supplier<Memberlist> gossip) {
        this.self = self;
        this.gossip = gossip;
    }

    /** A peer id as it may appear in a log line: control characters replaced, length bounded. */
    private static String printable(String id) {
        String s = id.length() > 64 ? id.substring(0, 64) + "..." : id;
        return s.replaceAll("\\p{Cntrl}", "?");
    }

    /** The streaming connection to {@code nodeId} (at {@code streamingAddress}) ended without a goodbye. */
    void connectionEnded(String nodeId, InetSocketAddress streamingAddress) {
        Memberlist ml = gossip.get();
        if (ml == null) {
            return;
        }
        LOG.debug("node {}: connection to {} ended abruptly; probing it for a crash", self, printable(nodeId));
        ml.probeCrash(nodeId, List.of(streamingAddress)).whenComplete((result, error) -> {
            if (error == null && result == CrashProbeResult.DEAD) {
                LOG.debug("node {}: {} is dead on crash evidence", self, printable(nodeId));
            } else if (error == null) {
                LOG.debug("node {}: crash probe of {} ended {}", self, printable(nodeId), result);
            }
        });
    }
}
