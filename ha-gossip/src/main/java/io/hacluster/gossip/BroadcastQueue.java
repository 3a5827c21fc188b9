package io.hacluster.gossip;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.function.IntSupplier;

/**
 * memberlist's {@code TransmitLimitedQueue}: messages waiting to be piggybacked on outgoing
 * packets. Each message is sent at most {@code retransmitMult * ceil(log10(n + 1))} times, the
 * least-sent first and, among equals, the largest that still fits. A message queued under a
 * name (memberlist's NamedBroadcast; gossip uses the node name) replaces the older message of
 * that name, so a stale alive never travels after the suspect that superseded it.
 * Confined to the state-machine thread.
 */
final class BroadcastQueue {

    /** Order: fewer transmits first, then longer messages, then newer (higher id). */
    private static final Comparator<Entry> ORDER = (a, b) -> {
        if (a.transmits != b.transmits) {
            return a.transmits < b.transmits ? -1 : 1;
        }
        if (a.length != b.length) {
            return a.length > b.length ? -1 : 1;
        }
        return Long.compare(b.id, a.id);
    };

    private final int retransmitMult;
    private final IntSupplier numNodes;
    private final NavigableSet<Entry> queue = new TreeSet<>(ORDER);
    private final Map<String, Entry> byName = new HashMap<>();
    private long idGen;

    /** {@code numNodes} gives the current cluster size estimate for the transmit limit. */
    BroadcastQueue(int retransmitMult, IntSupplier numNodes) {
        this.retransmitMult = retransmitMult;
        this.numNodes = numNodes;
    }

    /**
     * Queues {@code message}. With a non-null {@code name}, an older message of that name is
     * dropped first (its {@code onFinished} runs). {@code onFinished} (nullable) runs when the
     * message has been sent its last time or was superseded.
     */
    void enqueue(String name, byte[] message, Runnable onFinished) {
        if (name != null) {
            Entry old = byName.remove(name);
            if (old != null) {
                queue.remove(old);
                finish(old);
            }
        }
        Entry e = new Entry(name, message, 0, ++idGen, onFinished);
        queue.add(e);
        if (name != null) {
            byName.put(name, e);
        }
    }

    /**
     * Takes messages for one packet: each costs {@code overhead + length} bytes out of
     * {@code limit}. Every returned message counts one transmit; messages that reached the limit
     * leave the queue.
     */
    List<byte[]> take(int overhead, int limit) {
        if (queue.isEmpty()) {
            return List.of();
        }
        int transmitLimit = GossipMath.retransmitLimit(retransmitMult, numNodes.getAsInt());
        int minTr = queue.first().transmits;
        int maxTr = queue.last().transmits;
        int used = 0;
        List<byte[]> out = new ArrayList<>();
        List<Entry> reinsert = new ArrayList<>();
        for (int tr = minTr; tr <= maxTr; ) {
            int free = limit - used - overhead;
            if (free <= 0) {
                break;
            }
            // The first entry at this transmit count whose length is <= free (longest first).
            Entry probe = new Entry(null, null, tr, Long.MAX_VALUE, null, free);
            Entry keep = null;
            for (Entry cur : queue.tailSet(probe, true)) {
                if (cur.transmits != tr) {
                    break;
                }
                if (cur.length <= free) {
                    keep = cur;
                    break;
                }
            }
            if (keep == null) {
                tr++;
                continue;
            }
            used += overhead + keep.length;
            out.add(keep.message);
            queue.remove(keep);
            if (keep.transmits + 1 >= transmitLimit) {
                if (keep.name != null) {
                    byName.remove(keep.name, keep);
                }
                finish(keep);
            } else {
                reinsert.add(keep.withTransmits(keep.transmits + 1));
            }
        }
        for (Entry e : reinsert) {
            queue.add(e);
            if (e.name != null) {
                byName.put(e.name, e);
            }
        }
        return out;
    }

    /** Messages waiting. */
    int size() {
        return queue.size();
    }

    /** Drops everything, running each message's {@code onFinished}. */
    void clear() {
        List<Entry> all = new ArrayList<>(queue);
        queue.clear();
        byName.clear();
        all.forEach(BroadcastQueue::finish);
    }

    /** Keeps only the {@code maxRetain} least-transmitted messages (memberlist's Prune). */
    void prune(int maxRetain) {
        while (queue.size() > maxRetain) {
            Entry e = queue.pollLast();
            if (e.name != null) {
                byName.remove(e.name, e);
            }
            finish(e);
        }
    }

    private static void finish(Entry e) {
        if (e.onFinished != null) {
            e.onFinished.run();
        }
    }

    private static final class Entry {
        final String name;
        final byte[] message;
        final int transmits;
        final long id;
        final int length;
        final Runnable onFinished;

        Entry(String name, byte[] message, int transmits, long id, Runnable onFinished) {
            this(name, message, transmits, id, onFinished, message.length);
        }

        Entry(String name, byte[] message, int transmits, long id, Runnable onFinished, int length) {
            this.name = name;
            this.message = message;
            this.transmits = transmits;
            this.id = id;
            this.onFinished = onFinished;
            this.length = length;
        }

        Entry withTransmits(int t) {
            return new Entry(name, message, t, id, onFinished, length);
        }
    }
}
