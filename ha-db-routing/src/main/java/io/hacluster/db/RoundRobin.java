package io.hacluster.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the server of a rotation snapshot that lends the next connection, per thread.
 *
 * <p>Each thread goes through the rotation in blocks of {@code n} borrows that visit every server
 * once, so its load spreads exactly evenly; each block starts at a random server, so a thread
 * that alternates kinds of read (users, then posts, ...) does not pin each kind to one replica,
 * as a plain per-thread round robin does. Per thread rather than one shared counter because every
 * borrow would otherwise write the same cache line from every core.
 *
 * <p>The borrow path allocates nothing, takes no lock and divides nothing; a rotation of one
 * skips the thread-local lookup, so the common single-replica borrow is as cheap as the pool's own.
 */
final class RoundRobin {

    private static final Logger log = LoggerFactory.getLogger(RoundRobin.class);
    static final int REPLICAS = 0;
    static final int SEARCH = 1;

    /** Per thread: [2 tier] step within the current block, [2 tier + 1] the block's first index. */
    private final ThreadLocal<int[]> cursors = ThreadLocal.withInitial(() -> new int[4]);

    /** A connection and the server that lent it. */
    record Borrowed(Connection connection, Server server) {
    }

    /** Where this thread's next turn over a rotation of {@code n > 0} servers of {@code tier} starts. */
    int nextStart(int tier, int n) {
        if (n == 1) {
            return 0;
        }
        int[] cursor = cursors.get();
        int at = tier * 2;
        int step = cursor[at];
        int first = cursor[at + 1];
        if (step >= n || first >= n) {
            // The rotation shrank: start a new block.
            step = 0;
        }
        if (step == 0) {
            first = randomBelow(n);
            cursor[at + 1] = first;
        }
        cursor[at] = step + 1 == n ? 0 : step + 1;
        return wrap(first, step, n);
    }

    /** Uniform in [0, n) by multiply-shift: no division on the borrow path. */
    private static int randomBelow(int n) {
        return (int) (((ThreadLocalRandom.current().nextInt() & 0xFFFFFFFFL) * n) >>> 32);
    }

    /** {@code (start + i) % n} for {@code start, i < n}, without a division on the borrow path. */
    static int wrap(int start, int i, int n) {
        int index = start + i;
        return index >= n ? index - n : index;
    }

    /**
     * A connection from the first server of {@code rotation}, going round from {@code start}, that
     * is in rotation and lends one; null if none. Allocation-free: it serves the
     * {@link DatabaseRouter#replica()} hot path.
     */
    static Connection borrowInTurn(Server[] rotation, int start) {
        int n = rotation.length;
        for (int i = 0; i < n; i++) {
            Server s = rotation[wrap(start, i, n)];
            if (s.inRotation()) {
                Connection c = tryBorrow(s);
                if (c != null) {
                    return c;
                }
            }
        }
        return null;
    }

    /** This thread's next server of a rotation snapshot, skipping {@code exclude} and servers that fail to lend. */
    Borrowed fromRotation(Server[] rotation, int tier, Server exclude) {
        int n = rotation.length;
        if (n == 0) {
            return null;
        }
        int start = nextStart(tier, n);
        for (int i = 0; i < n; i++) {
            Server s = rotation[wrap(start, i, n)];
            if (s != exclude && s.inRotation()) {
                Connection c = tryBorrow(s);
                if (c != null) {
                    return new Borrowed(c, s);
                }
            }
        }
        return null;
    }

    /** A connection from {@code s}, or null (the caller tries elsewhere); takes {@code s} out only if it is unreachable. */
    static Connection tryBorrow(Server s) {
        try {
            return s.borrow();
        } catch (PoolRetiredException e) {
            return null;
        } catch (SQLException e) {
            if (SqlStates.isUnreachable(e)) {
                s.connectionFailedInUse("no connection: " + SqlStates.describe(e));
            } else {
                log.debug("{} lent no connection in time: {}", s, SqlStates.describe(e));
            }
            return null;
        }
    }
}
