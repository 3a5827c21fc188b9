package io.hacluster.jobs;

/**
 * What this node's job server did since it started; counters only grow.
 *
 * @param claimed attempts this node's workers claimed
 * @param succeeded attempts that ended in success
 * @param failed attempts whose handler threw (retried or ended in error)
 * @param errored jobs that ended in error on their last attempt here
 * @param canceled jobs that ended canceled here
 * @param claimsLost attempts whose claim was taken back or given up while running here
 * @param handedBack unfinished jobs handed back to pending when this node stopped
 * @param reaped running jobs of any node this node sent back to pending (or ended) because their
 *     worker stopped heartbeating
 * @param slotsCreated periodic slot rows this node created as leader
 * @param missedSlotsCreated of those, slots that had already passed (a misfire policy ran)
 * @param running jobs running on this node now
 */
public record JobServerStats(long claimed, long succeeded, long failed, long errored, long canceled, long claimsLost,
                             long handedBack, long reaped, long slotsCreated, long missedSlotsCreated, int running) {
}
