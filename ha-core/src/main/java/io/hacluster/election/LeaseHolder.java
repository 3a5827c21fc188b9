package io.hacluster.election;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's side of holding the lease of one cluster: acquires, renews and releases through a
 * {@link LeaseStore} and answers {@link #holds()} from the local monotonic clock alone.
 *
 * <p>After each successful acquire or renew the holder may lead until {@code renewDeadline} past
 * the moment the statement was <em>sent</em> (read before opening the connection: the database
 * started the lease somewhere during the statement, never before it was sent, so this never
 * counts in the holder's favour), or less if the database said fewer milliseconds remain. Past
 * that moment {@code holds()} is false by itself, without a thread or a timer: renewals that stop
 * (database unreachable, process stalled, a statement stuck) demote the node before the lease can
 * expire in the database, since {@code renewDeadline < leaseDuration}. A renewal the database
 * refuses demotes it at once.
 *
 * <p>Self-demotion is a courtesy to the rest of the cluster, not the guarantee: a process paused
 * between checking {@code holds()} and writing acts on an old belief. Writes that must not come
 * from a deposed leader carry the {@link #token() fencing token} (see docs/election.md).
 *
 * <p>{@link #holds()} and {@link #token()} may be called from any thread; acquire, renew and
 * release are serialised, so a late answer cannot overwrite a newer one.
 */
final class LeaseHolder {

    private static final Logger log = LoggerFactory.getLogger(LeaseHolder.class);

    /**
     * One holding as this node sees it.
     *
     * @param token the fencing token
     * @param epoch the epoch the database stored with the grant
     * @param deadlineNanos local monotonic time after which this node no longer leads
     */
    private record Holding(long token, long epoch, long deadlineNanos) {
    }

    private final LeaseStore store;
    private final String cluster;
    private final String nodeId;
    private final LeaseSettings settings;
    private final MonotonicClock clock;
    private volatile Holding holding;
    /** Told how long each answered renewal took, in nanoseconds (metrics). */
    private volatile java.util.function.LongConsumer renewLatency = nanos -> { };

    LeaseHolder(LeaseStore store, String cluster, String nodeId, LeaseSettings settings, MonotonicClock clock) {
        this.store = Objects.requireNonNull(store, "store");
        this.cluster = Objects.requireNonNull(cluster, "cluster");
        this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Tries to take (or, when held, renew) the lease with {@code epoch}. On a grant this node
     * holds it until the renew deadline; when another node holds it this node does not.
     *
     * @throws SQLException when the database cannot be asked; what this node held stays until
     *     its deadline
     */
    synchronized AcquireOutcome acquire(long epoch) throws SQLException {
        long sentAt = clock.nanoTime();
        AcquireOutcome outcome = store.acquire(cluster, nodeId, epoch, settings.leaseDuration());
        if (outcome instanceof AcquireOutcome.Granted granted) {
            LeaseGrant grant = granted.grant();
            Holding before = holding;
            holding = new Holding(grant.fencingToken(), grant.epoch(), deadline(sentAt, grant.remainingMillis()));
            if (before == null || before.token() != grant.fencingToken()) {
                log.info("Holding the lease of cluster {} with fencing token {} (epoch {})", cluster,
                        grant.fencingToken(), grant.epoch());
            }
        } else {
            drop("another node holds it");
        }
        return outcome;
    }

    /**
     * Renews the lease this node holds. Returns false, and this node holds nothing from then on,
     * when it held nothing or the database refused (expired, released, taken over).
     *
     * @throws SQLException when the database cannot be asked; the holding stays until its deadline
     */
    synchronized boolean renew() throws SQLException {
        Holding current = holding;
        if (current == null) {
            return false;
        }
        long sentAt = clock.nanoTime();
        RenewOutcome outcome = store.renew(cluster, nodeId, current.token(), settings.leaseDuration());
        reportRenewLatency(clock.nanoTime() - sentAt);
        if (outcome instanceof RenewOutcome.Renewed renewed) {
            holding = new Holding(current.token(), current.epoch(), deadline(sentAt, renewed.remainingMillis()));
            return true;
        }
        drop("the database refused the renewal");
        return false;
    }

    void onRenewLatency(java.util.function.LongConsumer listener) {
        renewLatency = Objects.requireNonNull(listener, "listener");
    }

    private void reportRenewLatency(long nanos) {
        try {
            renewLatency.accept(nanos);
        } catch (RuntimeException e) {
            log.debug("renew latency listener failed", e);
        }
    }

    /**
     * Gives the lease up (graceful leave, handover): this node stops holding it at once, before
     * the statement, and another node can take it as soon as the statement committed.
     *
     * @throws SQLException when the database cannot be asked; the lease then expires on its own
     */
    synchronized void release() throws SQLException {
        Holding current = holding;
        if (current == null) {
            return;
        }
        holding = null;  // before asking: from here on this node must not act as leader
        log.info("Releasing the lease of cluster {} (fencing token {})", cluster, current.token());
        store.release(cluster, nodeId, current.token());
    }

    /** Whether this node holds the lease: granted, not refused, and before its renew deadline. */
    boolean holds() {
        Holding current = holding;
        return current != null && clock.nanoTime() - current.deadlineNanos() < 0;
    }

    /** The fencing token of the holding while {@link #holds()}; empty otherwise. */
    OptionalLong token() {
        Holding current = holding;
        if (current == null || clock.nanoTime() - current.deadlineNanos() >= 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(current.token());
    }

    /**
     * The renew deadline from {@code sentAt}, cut to what the database said remains: the holder
     * must never believe in a lease the database already considers expired.
     */
    private long deadline(long sentAt, long remainingMillis) {
        long allowed = Math.min(settings.renewDeadline().toNanos(), Duration.ofMillis(remainingMillis).toNanos());
        return sentAt + allowed;
    }

    private void drop(String why) {
        Holding before = holding;
        holding = null;
        if (before != null) {
            log.info("No longer holding the lease of cluster {} (fencing token {}): {}", cluster, before.token(), why);
        }
    }
}
