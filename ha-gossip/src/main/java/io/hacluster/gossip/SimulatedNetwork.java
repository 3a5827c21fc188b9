package io.hacluster.gossip;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * An in-memory network with virtual time for deterministic gossip tests and large simulations.
 * One event queue orders everything (packet deliveries, stream exchanges, every node's timers)
 * by virtual time, then by insertion; one seeded {@link Random} decides loss and delay. The same
 * seed and the same calls give the same run, event for event. Nothing here is thread-safe: drive
 * a simulation from one thread.
 *
 * <p>Faults: packet loss ({@link #setLoss}), a per-link delay model ({@link #setDelayModel}),
 * extra delay on everything a node sends ({@link #setSendDelay}, a slow node), partitions into
 * groups ({@link #partition}), crashes ({@link SimNode#crash}) and pauses
 * ({@link SimNode#pause}: the node runs nothing for a while, then handles what queued up, like a
 * stalled process), and host losses ({@link SimNode#loseHost}: the process and its host vanish).
 * Streams (TCP) are never lost but are cut by partitions; a stream or a
 * {@linkplain Transport#probeConnect connect probe} to a crashed node on a live host is refused
 * after one round trip, one to a lost host or into a partition times out, and a connect probe to
 * a paused node is accepted (its kernel still completes handshakes).
 */
public final class SimulatedNetwork {

    /** How long one packet or stream leg takes on a link. */
    @FunctionalInterface
    public interface DelayModel {
        /** The one-way delay from {@code from} to {@code to}; draw randomness from {@code random} only. */
        Duration delay(String from, String to, Random random);

        /** A delay uniform in [min, max]. */
        static DelayModel uniform(Duration min, Duration max) {
            long lo = min.toNanos();
            long span = max.toNanos() - lo;
            return (f, t, r) -> Duration.ofNanos(lo + (span <= 0 ? 0 : (long) (r.nextDouble() * span)));
        }
    }

    /** Virtual wall-clock origin: 2026-01-01T00:00:00Z. */
    private static final long EPOCH_MILLIS = 1_767_225_600_000L;

    private final Random random;
    private final long seed;
    private final PriorityQueue<Event> queue = new PriorityQueue<>();
    private final Map<String, SimNode> nodesByName = new LinkedHashMap<>();
    private final Map<InetSocketAddress, SimNode> nodesByAddress = new HashMap<>();
    private final Map<String, Integer> partitionGroup = new HashMap<>();
    private final java.util.Set<String> blockedLinks = new java.util.HashSet<>();
    private long now;
    private long seq;
    private long eventsRun;
    private double loss;
    private DelayModel delayModel = DelayModel.uniform(Duration.ofMillis(1), Duration.ofMillis(2));
    private int nextAddress = 1;

    /** A network whose every random choice derives from {@code seed}. */
    public SimulatedNetwork(long seed) {
        this.seed = seed;
        this.random = new Random(seed);
    }

    // ------------------------------------------------------------------ topology

    /**
     * Adds a node named {@code name} at a fresh address 10.x.y.z:7946, or, when a crashed node
     * of that name exists, a new process at the crashed node's address (a restart).
     */
    public SimNode addNode(String name) {
        SimNode old = nodesByName.get(name);
        InetSocketAddress address;
        if (old != null) {
            if (!old.crashed) {
                throw new IllegalStateException("node " + name + " is running");
            }
            address = old.address;
        } else {
            int i = nextAddress++;
            try {
                address = new InetSocketAddress(InetAddress.getByAddress(
                        new byte[] {10, (byte) (i >> 16), (byte) (i >> 8), (byte) i}), GossipConfig.DEFAULT_PORT);
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
        SimNode n = new SimNode(name, address, new Random(seed * 31 + name.hashCode() * 17L + nextAddress));
        nodesByName.put(name, n);
        nodesByAddress.put(address, n);
        return n;
    }

    /** The node named {@code name} (the latest process of that name). */
    public SimNode node(String name) {
        SimNode n = nodesByName.get(name);
        if (n == null) {
            throw new IllegalArgumentException("no node " + name);
        }
        return n;
    }

    /** All nodes ever added (latest process per name), in insertion order. */
    public Collection<SimNode> nodes() {
        return nodesByName.values();
    }

    /** Drops each packet independently with probability {@code p} (0 to 1). */
    public void setLoss(double p) {
        if (p < 0 || p > 1) {
            throw new IllegalArgumentException("loss must be within [0, 1]");
        }
        loss = p;
    }

    /** Sets the link delay model (default: uniform 1..2 ms). */
    public void setDelayModel(DelayModel model) {
        delayModel = Objects.requireNonNull(model);
    }

    /**
     * Splits the network: nodes in different groups cannot exchange packets or streams; nodes in
     * no group can reach only other ungrouped nodes.
     */
    @SafeVarargs
    public final void partition(Set<String>... groups) {
        partitionGroup.clear();
        for (int g = 0; g < groups.length; g++) {
            for (String n : groups[g]) {
                partitionGroup.put(n, g);
            }
        }
    }

    /** Removes all partitions. */
    public void heal() {
        partitionGroup.clear();
    }

    /**
     * Cuts (or restores) the link between {@code a} and {@code b} in both directions, packets
     * and streams alike, leaving every other link alone.
     */
    public void setLinkBlocked(String a, String b, boolean blocked) {
        String key = a.compareTo(b) < 0 ? a + "\u0000" + b : b + "\u0000" + a;
        if (blocked) {
            blockedLinks.add(key);
        } else {
            blockedLinks.remove(key);
        }
    }

    /**
     * Drops every datagram to or from {@code node} while {@code blocked} (a firewall that lets
     * only TCP through); streams still work.
     */
    public void setUdpBlocked(String node, boolean blocked) {
        node(node).udpBlocked = blocked;
    }

    /** Adds {@code extra} to the delay of everything {@code node} sends (a slow but live node). */
    public void setSendDelay(String node, Duration extra) {
        node(node).sendDelay = extra.toNanos();
    }

    private boolean connected(SimNode a, SimNode b) {
        if (!blockedLinks.isEmpty()) {
            String key = a.name.compareTo(b.name) < 0 ? a.name + "\u0000" + b.name : b.name + "\u0000" + a.name;
            if (blockedLinks.contains(key)) {
                return false;
            }
        }
        if (partitionGroup.isEmpty()) {
            return true;
        }
        return Objects.equals(partitionGroup.get(a.name), partitionGroup.get(b.name));
    }

    // ------------------------------------------------------------------ time

    /** Virtual time in nanoseconds since the simulation began. */
    public long nanoTime() {
        return now;
    }

    /** Virtual time since the simulation began. */
    public Duration elapsed() {
        return Duration.ofNanos(now);
    }

    /** Events processed so far (a cost measure for benchmarks). */
    public long eventsRun() {
        return eventsRun;
    }

    /** Runs every event due within the next {@code d} of virtual time. */
    public void runFor(Duration d) {
        runUntilTime(now + d.toNanos());
    }

    /**
     * Runs until {@code condition} holds, checking it every {@code pollEvery} of virtual time, for
     * at most {@code max}. Returns whether the condition held.
     */
    public boolean runUntil(BooleanSupplier condition, Duration pollEvery, Duration max) {
        long end = now + max.toNanos();
        while (true) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (now >= end) {
                return false;
            }
            runUntilTime(Math.min(end, now + pollEvery.toNanos()));
        }
    }

    private void runUntilTime(long t) {
        while (!queue.isEmpty() && queue.peek().time <= t) {
            Event e = queue.poll();
            if (e.cancelled) {
                continue;
            }
            now = e.time;
            SimNode owner = e.owner;
            if (owner != null) {
                if (owner.crashed) {
                    continue;
                }
                if (owner.pausedUntil > now) {
                    e.time = owner.pausedUntil; // a stalled process runs its backlog on resume
                    e.seq = seq++;
                    queue.add(e);
                    continue;
                }
            }
            eventsRun++;
            e.action.run();
        }
        now = Math.max(now, t);
    }

    private Event enqueue(long time, SimNode owner, Runnable action) {
        Event e = new Event(time, seq++, owner, action);
        queue.add(e);
        return e;
    }

    private long linkDelay(SimNode from, SimNode to) {
        long d = delayModel.delay(from.name, to.name, random).toNanos();
        return Math.max(0, d) + from.sendDelay;
    }

    private static final class Event implements Comparable<Event>, Scheduler.Cancellable {
        long time;
        long seq;
        final SimNode owner;
        final Runnable action;
        boolean cancelled;

        Event(long time, long seq, SimNode owner, Runnable action) {
            this.time = time;
            this.seq = seq;
            this.owner = owner;
            this.action = action;
        }

        @Override
        public int compareTo(Event o) {
            int c = Long.compare(time, o.time);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    // ------------------------------------------------------------------ nodes

    /** One simulated process: its address, its {@link Transport} and its {@link Scheduler}. */
    public final class SimNode {
        private final String name;
        private final InetSocketAddress address;
        private final Random random;
        private final NodeScheduler scheduler = new NodeScheduler(this);
        private final NodeTransport transport = new NodeTransport(this);
        private Transport.Inbound inbound;
        private boolean crashed;
        private boolean hostLost;
        private long pausedUntil;
        private long sendDelay;
        private boolean udpBlocked;
        private long packetsSent;
        private long bytesSent;
        private long streamsSent;
        private long streamBytesSent;
        private long packetsDropped;

        private SimNode(String name, InetSocketAddress address, Random random) {
            this.name = name;
            this.address = address;
            this.random = random;
        }

        public String name() { return name; }

        public InetSocketAddress address() { return address; }

        /** The transport to give this node's {@link Memberlist}. */
        public Transport transport() { return transport; }

        /** The scheduler to give this node's {@link Memberlist}. */
        public Scheduler scheduler() { return scheduler; }

        /** A per-node random generator derived from the network seed. */
        public Random random() { return random; }

        /** Kills the process: it runs nothing more and its address stops answering. */
        public void crash() {
            crashed = true;
        }

        public boolean isCrashed() { return crashed; }

        /**
         * Loses the whole host: the process runs nothing more, and its address answers nothing at
         * all (no refusal: streams and connect probes time out), as a powered-off machine or a
         * pulled cable. A later {@link SimulatedNetwork#addNode} of this name is a restart on a
         * host that is back.
         */
        public void loseHost() {
            crashed = true;
            hostLost = true;
        }

        /** Stalls the process for {@code d}: nothing runs, inbound traffic waits, then it resumes. */
        public void pause(Duration d) {
            pausedUntil = Math.max(pausedUntil, now + d.toNanos());
        }

        /** Datagrams this node sent (delivered or not). */
        public long packetsSent() { return packetsSent; }

        /** Bytes in datagrams this node sent. */
        public long bytesSent() { return bytesSent; }

        /** Stream exchanges this node started. */
        public long streamsSent() { return streamsSent; }

        /** Bytes this node wrote on streams: its requests and its replies to others' requests. */
        public long streamBytesSent() { return streamBytesSent; }

        /** Datagrams from this node lost to loss, partitions or unknown addresses. */
        public long packetsDropped() { return packetsDropped; }

        @Override
        public String toString() {
            return "SimNode[" + name + " " + address + (crashed ? " crashed" : "") + "]";
        }
    }

    /** A node's view of virtual time; tasks run in global event order. */
    private final class NodeScheduler implements Scheduler {
        private final SimNode node;

        NodeScheduler(SimNode node) {
            this.node = node;
        }

        private SimulatedNetwork net() {
            return SimulatedNetwork.this;
        }

        @Override
        public long nanoTime() {
            return net().now;
        }

        @Override
        public long currentTimeMillis() {
            return EPOCH_MILLIS + net().now / 1_000_000;
        }

        @Override
        public void execute(Runnable task) {
            net().enqueue(net().now, node, task);
        }

        @Override
        public Cancellable schedule(Duration delay, Runnable task) {
            return net().enqueue(net().now + Math.max(0, delay.toNanos()), node, task);
        }
    }

    private final class NodeTransport implements Transport {
        private final SimNode self;

        NodeTransport(SimNode self) {
            this.self = self;
        }

        @Override
        public void start(Inbound inbound) {
            self.inbound = inbound;
        }

        @Override
        public InetSocketAddress advertiseAddress() {
            return self.address;
        }

        @Override
        public void sendPacket(InetSocketAddress to, byte[] packet) {
            if (self.crashed) {
                return;
            }
            self.packetsSent++;
            self.bytesSent += packet.length;
            SimNode dest = nodesByAddress.get(to);
            if (dest == null || !connected(self, dest) || self.udpBlocked || dest.udpBlocked
                    || (loss > 0 && random.nextDouble() < loss)) {
                self.packetsDropped++;
                return;
            }
            byte[] copy = packet.clone();
            enqueue(now + linkDelay(self, dest), dest, () -> {
                if (dest.inbound != null) {
                    dest.inbound.onPacket(self.address, copy, now);
                }
            });
        }

        @Override
        public CompletableFuture<byte[]> exchange(InetSocketAddress to, byte[] request, boolean expectReply,
                                                  Duration timeout) {
            CompletableFuture<byte[]> result = new CompletableFuture<>();
            if (self.crashed) {
                return result; // a dead process waits forever
            }
            self.streamsSent++;
            self.streamBytesSent += request.length;
            Event timer = enqueue(now + timeout.toNanos(), null, () ->
                    result.completeExceptionally(new TimeoutException("stream to " + to + " timed out")));
            result.whenComplete((v, e) -> timer.cancel());
            SimNode dest = nodesByAddress.get(to);
            if (dest == null || !connected(self, dest)) {
                return result; // no route: the timeout fires
            }
            if (dest.hostLost) {
                return result; // nobody answers: the timeout fires
            }
            long there = now + linkDelay(self, dest);
            if (dest.crashed) {
                enqueue(there + linkDelay(dest, self), null, () ->
                        result.completeExceptionally(new java.net.ConnectException("connection refused: " + to)));
                return result;
            }
            byte[] copy = request.clone();
            enqueue(there, dest, () -> {
                if (dest.inbound == null || !connected(self, dest)) {
                    return;
                }
                if (!expectReply) {
                    enqueue(now + linkDelay(dest, self), null, () -> result.complete(null));
                }
                CompletableFuture<byte[]> reply = dest.inbound.onStream(self.address, copy);
                if (expectReply) {
                    reply.whenComplete((r, err) -> {
                        if (err != null || r == null) {
                            enqueue(now + linkDelay(dest, self), self, () -> result.completeExceptionally(
                                    new java.io.EOFException("stream closed without a reply")));
                            return;
                        }
                        dest.streamBytesSent += r.length;
                        enqueue(now + linkDelay(dest, self), self, () -> {
                            if (connected(self, dest)) {
                                result.complete(r);
                            }
                        });
                    });
                }
            });
            return result;
        }

        @Override
        public CompletableFuture<ConnectOutcome> probeConnect(InetSocketAddress to, Duration timeout) {
            CompletableFuture<ConnectOutcome> result = new CompletableFuture<>();
            if (self.crashed) {
                return result; // a dead process waits forever
            }
            SimNode dest = nodesByAddress.get(to);
            if (dest == null || dest.hostLost || !connected(self, dest)) {
                enqueue(now + timeout.toNanos(), self, () -> result.complete(ConnectOutcome.TIMED_OUT));
                return result;
            }
            long roundTrip = linkDelay(self, dest) + linkDelay(dest, self);
            if (roundTrip > timeout.toNanos()) {
                enqueue(now + timeout.toNanos(), self, () -> result.complete(ConnectOutcome.TIMED_OUT));
                return result;
            }
            // the remote kernel answers whatever its process does: a reset when it is gone, a
            // completed handshake when it is alive or paused
            ConnectOutcome outcome = dest.crashed ? ConnectOutcome.REFUSED : ConnectOutcome.ACCEPTED;
            enqueue(now + roundTrip, self, () -> result.complete(outcome));
            return result;
        }

        @Override
        public void close() {
            self.inbound = null;
        }
    }

    /** Totals over live nodes: datagrams sent. */
    public long totalPacketsSent() {
        long t = 0;
        for (SimNode n : nodesByName.values()) {
            t += n.packetsSent;
        }
        return t;
    }

    /** Names of nodes that are not crashed. */
    public List<String> runningNodes() {
        List<String> out = new ArrayList<>();
        for (SimNode n : nodesByName.values()) {
            if (!n.crashed) {
                out.add(n.name);
            }
        }
        return out;
    }
}
