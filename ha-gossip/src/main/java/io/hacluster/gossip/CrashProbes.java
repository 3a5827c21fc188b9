package io.hacluster.gossip;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Probes a node out of the round robin when its user has hard evidence that it crashed (its
 * streaming connection was reset or ended without a goodbye), and declares it dead at once only
 * when the network agrees beyond doubt:
 *
 * <ol>
 *   <li>a TCP connect to its gossip port, and to every extra address the caller names (in
 *       ha-cluster: its streaming port), is <b>refused</b> ({@link ConnectOutcome#REFUSED}: its host
 *       is up, and nothing listens there any more), and</li>
 *   <li>no ack comes by any path: a direct UDP ping, a TCP ping to its gossip port, and indirect
 *       pings through up to {@code indirectChecks} peers, all sent at once; the wait ends when
 *       every indirect peer has nacked or the (health-scaled) probe interval has passed.</li>
 * </ol>
 *
 * Then the ordinary dead message is broadcast (From = this node), which memberlist and serf peers
 * accept as any other. Anything short of that (an ack, one connect accepted or timed out, the
 * node refuting meanwhile) changes nothing: the normal probe and suspicion timers decide, as
 * before. A stalled process keeps its listening sockets (its kernel completes handshakes), and a
 * lost host or a partition answers nothing, so neither can take this path.
 *
 * <p>Bounded: one probe per node at a time (a second request joins the first), at most one per
 * node per probe interval, and at most {@link #MAX_CONCURRENT} at once. State-machine thread only,
 * except the counters.
 */
final class CrashProbes {

    private static final Logger log = LoggerFactory.getLogger(CrashProbes.class);

    /** Crash probes running at once, at most; more requests are skipped. */
    static final int MAX_CONCURRENT = 16;
    /** Start times kept for the per-node rate limit, at most. */
    private static final int MAX_REMEMBERED = 1024;

    private final GossipCore core;
    private final GossipConfig config;
    private final Scheduler scheduler;
    private final Transport transport;
    private final Map<String, Run> running = new HashMap<>();
    private final Map<String, Long> lastStarted = new HashMap<>();
    private final AtomicLong deaths = new AtomicLong();
    private final AtomicLong aborts = new AtomicLong();

    CrashProbes(GossipCore core, GossipConfig config, Scheduler scheduler, Transport transport) {
        this.core = core;
        this.config = config;
        this.scheduler = scheduler;
        this.transport = transport;
    }

    long deaths() {
        return deaths.get();
    }

    long aborts() {
        return aborts.get();
    }

    /** One probe of one node. */
    private final class Run {
        final String node;
        final long incarnation;
        final CompletableFuture<CrashProbeResult> result = new CompletableFuture<>();
        final List<String> refused = new ArrayList<>();
        int connectsPending;
        int expectedNacks;
        int nacks;
        int indirectPeers;
        int seq;
        boolean windowEnded;

        Run(String node, long incarnation) {
            this.node = node;
            this.incarnation = incarnation;
        }
    }

    /**
     * Starts a crash-evidence probe of {@code node}, or joins the one running. {@code alsoRefused}
     * are further addresses of the same process that must refuse connections too.
     */
    CompletableFuture<CrashProbeResult> probe(String node, List<InetSocketAddress> alsoRefused) {
        Run existing = running.get(node);
        if (existing != null) {
            return existing.result;
        }
        NodeState target = core.probeTarget(node);
        long now = scheduler.nanoTime();
        if (!config.fastCrashDetection() || target == null || target.socketAddress() == null
                || running.size() >= MAX_CONCURRENT || recentlyProbed(node, now)) {
            return CompletableFuture.completedFuture(CrashProbeResult.SKIPPED);
        }
        remember(node, now);
        Run run = new Run(node, target.incarnation);
        running.put(node, run);
        Duration window = core.scaledProbeInterval();
        List<InetSocketAddress> addresses = new ArrayList<>(1 + alsoRefused.size());
        addresses.add(target.socketAddress());
        addresses.addAll(alsoRefused);
        run.connectsPending = addresses.size();
        log.debug("{}: crash evidence for {}: probing it now, connecting to {}", config.name(), node, addresses);
        GossipCore.EvidencePings pings = core.sendEvidencePings(target, window,
                () -> finish(run, CrashProbeResult.ALIVE, "an ack came"),
                () -> {
                    run.nacks++;
                    maybeConclude(run);
                },
                () -> {
                    run.windowEnded = true;
                    maybeConclude(run);
                });
        run.seq = pings.seq();
        run.expectedNacks = pings.expectedNacks();
        run.indirectPeers = pings.indirectPeers();
        for (InetSocketAddress address : addresses) {
            transport.probeConnect(address, config.probeTimeout()).whenComplete((outcome, err) ->
                    scheduler.execute(() -> connected(run, address, err == null ? outcome : ConnectOutcome.TIMED_OUT)));
        }
        return run.result;
    }

    private void connected(Run run, InetSocketAddress address, ConnectOutcome outcome) {
        if (run.result.isDone()) {
            return;
        }
        run.connectsPending--;
        if (outcome != ConnectOutcome.REFUSED) {
            finish(run, CrashProbeResult.NO_EVIDENCE, "a connection to " + address + " was "
                    + (outcome == ConnectOutcome.ACCEPTED ? "accepted" : "not answered in time"));
            return;
        }
        run.refused.add(address.toString());
        maybeConclude(run);
    }

    /**
     * Dead once every connect was refused and the indirect peers agree: all of them nacked, or
     * the window ended without an ack.
     */
    private void maybeConclude(Run run) {
        if (run.result.isDone() || run.connectsPending > 0) {
            return;
        }
        boolean peersAgree = run.windowEnded
                || (run.expectedNacks == run.indirectPeers && run.nacks >= run.expectedNacks && run.indirectPeers > 0);
        if (!peersAgree) {
            return;
        }
        if (core.probeTarget(run.node) == null) {
            // another node's dead message (likely its own crash probe) came first: nothing to declare
            finish(run, CrashProbeResult.DEAD, "already declared dead meanwhile");
            return;
        }
        if (!core.declareDeadOnEvidence(run.node, run.incarnation, deaths::incrementAndGet)) {
            finish(run, CrashProbeResult.NO_EVIDENCE, "it changed while probed");
            return;
        }
        log.info("{}: marking {} as failed on crash evidence: connections to {} refused, no ack directly, "
                        + "over TCP or through {} peers ({} nacks)", config.name(), run.node, run.refused,
                run.indirectPeers, run.nacks);
        finish(run, CrashProbeResult.DEAD, null);
    }

    private void finish(Run run, CrashProbeResult result, String why) {
        if (run.result.isDone()) {
            return;
        }
        core.endEvidencePings(run.seq);
        running.remove(run.node, run);
        if (result != CrashProbeResult.DEAD) {
            aborts.incrementAndGet();
            log.debug("{}: crash-evidence probe of {} ends without a verdict: {}", config.name(), run.node, why);
        }
        run.result.complete(result);
    }

    private boolean recentlyProbed(String node, long now) {
        Long last = lastStarted.get(node);
        return last != null && now - last < config.probeInterval().toNanos();
    }

    private void remember(String node, long now) {
        if (lastStarted.size() >= MAX_REMEMBERED) {
            long horizon = config.probeInterval().toNanos();
            for (Iterator<Long> it = lastStarted.values().iterator(); it.hasNext(); ) {
                if (now - it.next() >= horizon) {
                    it.remove();
                }
            }
            if (lastStarted.size() >= MAX_REMEMBERED) {
                lastStarted.clear();
            }
        }
        lastStarted.put(node, now);
    }
}
