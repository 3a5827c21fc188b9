package io.hacluster;

import io.hacluster.discovery.DiscoveryRow;
import io.hacluster.gossip.Member;
import io.hacluster.gossip.Memberlist;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a node finds its cluster: the first join through the static seeds and the discovery
 * table's rows (bounded by the join timeout, failure logged, not fatal), later joins of rows that
 * gossip does not know as live members, and retries of the static seeds while the node is alone.
 */
final class SeedJoiner {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);

    private final String id;
    private final Memberlist memberlist;
    private final List<InetSocketAddress> staticSeeds;
    private final Duration joinTimeout;
    private final boolean discovery;
    private final BooleanSupplier running;

    /**
     * @param discovery whether a discovery table keeps offering rows (only for the log line)
     * @param running whether the node is RUNNING: later joins happen only then
     */
    SeedJoiner(String id, Memberlist memberlist, List<InetSocketAddress> staticSeeds, Duration joinTimeout,
               boolean discovery, BooleanSupplier running) {
        this.id = id;
        this.memberlist = memberlist;
        this.staticSeeds = List.copyOf(staticSeeds);
        this.joinTimeout = joinTimeout;
        this.discovery = discovery;
        this.running = running;
    }

    /** Joins {@code seeds} and waits up to the join timeout; failure is logged, not fatal. */
    void joinAndWait(Collection<InetSocketAddress> seeds) {
        List<InetSocketAddress> resolved = resolveSeeds(seeds);
        if (resolved.isEmpty()) {
            LOG.info("node {} has no seeds: it starts a cluster of its own", id);
            return;
        }
        try {
            int answered = memberlist.join(resolved).get(joinTimeout.toMillis(), TimeUnit.MILLISECONDS);
            LOG.info("node {} joined through {} of {} seeds", id, answered, resolved.size());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterStartException("interrupted while joining", e);
        } catch (Exception e) {
            LOG.warn("node {} could not join any of {} seeds yet ({}); {}", id, resolved.size(),
                    e.getCause() != null ? e.getCause().getMessage() : e.toString(),
                    discovery ? "discovery keeps trying" : "the static seeds are retried while it is alone");
        }
    }

    private List<InetSocketAddress> resolveSeeds(Collection<InetSocketAddress> seeds) {
        InetSocketAddress self = memberlist.advertiseAddress();
        Set<InetSocketAddress> out = new LinkedHashSet<>();
        for (InetSocketAddress seed : seeds) {
            InetSocketAddress r = seed.isUnresolved() ? new InetSocketAddress(seed.getHostString(), seed.getPort()) : seed;
            if (r.isUnresolved()) {
                LOG.warn("seed {}:{} does not resolve; skipped", seed.getHostString(), seed.getPort());
            } else if (!r.equals(self)) {
                out.add(r);
            }
        }
        return new ArrayList<>(out);
    }

    /** Discovery thread: join the fresh rows that gossip does not know as live members. */
    void onDiscoveryRows(List<DiscoveryRow> rows) {
        Memberlist ml = memberlist;
        if (!running.getAsBoolean()) {
            return;
        }
        List<InetSocketAddress> unknown = new ArrayList<>();
        for (DiscoveryRow row : rows) {
            Member m = ml.member(row.id());
            if (m == null || m.state().isGone()) {
                unknown.add(InetSocketAddress.createUnresolved(row.hostname(), row.gossipPort()));
            }
        }
        List<InetSocketAddress> resolved = resolveSeeds(unknown);
        if (!resolved.isEmpty()) {
            ml.join(resolved).whenComplete((n, e) -> {
                if (e != null) {
                    LOG.debug("node {} could not join discovered peers {}: {}", id, resolved, e.toString());
                }
            });
        }
    }

    void retryStaticSeedsWhenAlone() {
        Memberlist ml = memberlist;
        if (!running.getAsBoolean() || ml.numMembers() > 1) {
            return;
        }
        List<InetSocketAddress> resolved = resolveSeeds(staticSeeds);
        if (!resolved.isEmpty()) {
            ml.join(resolved).whenComplete((n, e) -> {
                if (e != null) {
                    LOG.debug("node {} is alone and could not rejoin static seeds: {}", id, e.toString());
                }
            });
        }
    }
}
