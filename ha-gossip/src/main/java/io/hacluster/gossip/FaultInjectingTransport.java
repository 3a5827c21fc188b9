package io.hacluster.gossip;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Transport} decorator that injects the faults of {@link GossipFaults} into another
 * transport (the real {@code NettyTransport} or a {@link SimulatedNetwork} endpoint). While no
 * fault is set every call goes straight through after one volatile read.
 *
 * <p>Dropped datagrams vanish silently, as on a lossy network. An outbound stream exchange to a
 * blocked peer (or from an isolated node) fails at once with a {@link ConnectException}, as a
 * rejected connection; an inbound stream from a blocked peer (or to an isolated node) is closed
 * without a reply. Every drop is counted ({@link #drops()}).
 */
public final class FaultInjectingTransport implements Transport, GossipFaults {

    private static final Logger log = LoggerFactory.getLogger(FaultInjectingTransport.class);

    /** The faults in force, replaced as a whole on every change. */
    private record Faults(Set<InetSocketAddress> blocked, boolean isolated) {

        boolean idle() {
            return !isolated && blocked.isEmpty();
        }

        boolean cuts(InetSocketAddress peer) {
            return isolated || blocked.contains(peer);
        }
    }

    private static final Faults NONE = new Faults(Set.of(), false);

    private final Transport delegate;
    private final Object changes = new Object();
    private volatile Faults faults = NONE;
    private final LongAdder packetsOut = new LongAdder();
    private final LongAdder packetsIn = new LongAdder();
    private final LongAdder streamsOut = new LongAdder();
    private final LongAdder streamsIn = new LongAdder();

    private FaultInjectingTransport(Transport delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** Wraps {@code delegate}, with no fault set; closing the wrapper closes it. */
    public static FaultInjectingTransport wrap(Transport delegate) {
        return new FaultInjectingTransport(delegate);
    }

    // ---------------------------------------------------------------- Transport

    @Override
    public void start(Inbound inbound) {
        Objects.requireNonNull(inbound, "inbound");
        delegate.start(new Inbound() {
            @Override
            public void onPacket(InetSocketAddress from, byte[] packet, long receivedAtNanos) {
                Faults f = faults;
                if (!f.idle() && f.cuts(from)) {
                    packetsIn.increment();
                    return;
                }
                inbound.onPacket(from, packet, receivedAtNanos);
            }

            @Override
            public CompletableFuture<byte[]> onStream(InetSocketAddress from, byte[] message) {
                Faults f = faults;
                if (!f.idle() && f.cuts(from)) {
                    streamsIn.increment();
                    return CompletableFuture.completedFuture(null);  // closed without a reply
                }
                return inbound.onStream(from, message);
            }
        });
    }

    @Override
    public InetSocketAddress advertiseAddress() {
        return delegate.advertiseAddress();
    }

    @Override
    public void sendPacket(InetSocketAddress to, byte[] packet) {
        Faults f = faults;
        if (!f.idle() && f.cuts(to)) {
            packetsOut.increment();
            return;
        }
        delegate.sendPacket(to, packet);
    }

    @Override
    public CompletableFuture<byte[]> exchange(InetSocketAddress to, byte[] request, boolean expectReply,
                                              Duration timeout) {
        Faults f = faults;
        if (!f.idle() && f.cuts(to)) {
            streamsOut.increment();
            return CompletableFuture.failedFuture(new ConnectException(
                    "gossip stream to " + to + " refused by fault injection"));
        }
        return delegate.exchange(to, request, expectReply, timeout);
    }

    /**
     * A blocked peer (or an isolated node) reports {@link ConnectOutcome#TIMED_OUT}: a cut link
     * drops packets, it does not reset connections, so a fault-injected partition never looks
     * like a crash.
     */
    @Override
    public CompletableFuture<ConnectOutcome> probeConnect(InetSocketAddress to, Duration timeout) {
        Faults f = faults;
        if (!f.idle() && f.cuts(to)) {
            streamsOut.increment();
            return CompletableFuture.completedFuture(ConnectOutcome.TIMED_OUT);
        }
        return delegate.probeConnect(to, timeout);
    }

    @Override
    public void close() {
        delegate.close();
    }

    // ---------------------------------------------------------------- GossipFaults

    @Override
    public void block(InetSocketAddress peer) {
        requireResolved(peer);
        synchronized (changes) {
            Faults f = faults;
            if (f.blocked().contains(peer)) {
                return;
            }
            Set<InetSocketAddress> next = new HashSet<>(f.blocked());
            next.add(peer);
            faults = new Faults(Set.copyOf(next), f.isolated());
        }
        log.info("gossip fault injection on {}: blocked {}", advertiseAddress(), peer);
    }

    @Override
    public void unblock(InetSocketAddress peer) {
        requireResolved(peer);
        synchronized (changes) {
            Faults f = faults;
            if (!f.blocked().contains(peer)) {
                return;
            }
            Set<InetSocketAddress> next = new HashSet<>(f.blocked());
            next.remove(peer);
            faults = next.isEmpty() && !f.isolated() ? NONE : new Faults(Set.copyOf(next), f.isolated());
        }
        log.info("gossip fault injection on {}: unblocked {}", advertiseAddress(), peer);
    }

    @Override
    public boolean isBlocked(InetSocketAddress peer) {
        return faults.blocked().contains(peer);
    }

    @Override
    public Set<InetSocketAddress> blocked() {
        return faults.blocked();
    }

    @Override
    public void isolate() {
        synchronized (changes) {
            faults = new Faults(faults.blocked(), true);
        }
        log.info("gossip fault injection on {}: isolated", advertiseAddress());
    }

    @Override
    public void endIsolation() {
        synchronized (changes) {
            Faults f = faults;
            faults = f.blocked().isEmpty() ? NONE : new Faults(f.blocked(), false);
        }
        log.info("gossip fault injection on {}: isolation ended", advertiseAddress());
    }

    @Override
    public boolean isIsolated() {
        return faults.isolated();
    }

    @Override
    public void heal() {
        synchronized (changes) {
            faults = NONE;
        }
        log.info("gossip fault injection on {}: healed", advertiseAddress());
    }

    @Override
    public Drops drops() {
        return new Drops(packetsOut.sum(), packetsIn.sum(), streamsOut.sum(), streamsIn.sum());
    }

    private static void requireResolved(InetSocketAddress peer) {
        Objects.requireNonNull(peer, "peer");
        if (peer.isUnresolved()) {
            throw new IllegalArgumentException("peer " + peer + " is unresolved: name it by its gossip address");
        }
    }

    @Override
    public String toString() {
        Faults f = faults;
        return "FaultInjectingTransport[" + advertiseAddress() + (f.isolated() ? " isolated" : "")
                + (f.blocked().isEmpty() ? "" : " blocked " + f.blocked()) + "]";
    }
}
