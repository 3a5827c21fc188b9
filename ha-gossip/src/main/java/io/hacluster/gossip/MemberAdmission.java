package io.hacluster.gossip;

/**
 * The door of the member table for nodes it does not know yet: a cap on entries
 * ({@link GossipConfig#maxMembers()}) and a token bucket of
 * {@link GossipConfig#memberAdmissionsPerSecond()} with a burst of the same size. Without it a
 * stranger's stream of invented alive messages grew one table to 80,387 entries and took nodes
 * down. State-machine thread only; time comes from the {@link Scheduler} so it also runs in
 * simulated time.
 */
final class MemberAdmission {

    private final int maxMembers;
    private final int perSecond;
    private double tokens;
    private long refilledAtNanos;
    private boolean started;

    MemberAdmission(int maxMembers, int perSecond) {
        this.maxMembers = maxMembers;
        this.perSecond = perSecond;
    }

    /**
     * Takes a token for one new node, or says why not.
     *
     * @param tableSize entries in the member table now
     * @return null when admitted, else the reason for the log
     */
    String admit(int tableSize, long nowNanos) {
        if (tableSize >= maxMembers) {
            return "member table full (" + maxMembers + " entries)";
        }
        if (!started) {
            tokens = perSecond;
            started = true;
        } else {
            tokens = Math.min(perSecond, tokens + Math.max(0, nowNanos - refilledAtNanos) * (perSecond / 1e9));
        }
        refilledAtNanos = nowNanos;
        if (tokens < 1) {
            return "more than " + perSecond + " new nodes a second";
        }
        tokens -= 1;
        return null;
    }
}
