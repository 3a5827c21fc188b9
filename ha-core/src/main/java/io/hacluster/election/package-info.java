/**
 * Leader election: the bully election ({@link io.hacluster.election.Election}: the lowest live id
 * that may lead wins, with epochs that only grow) and the database lease with fencing tokens that
 * the winner must hold whenever a database is configured.
 *
 * <p>The lease lives in one row per cluster of the master database ({@link LeaseStore}); every
 * decision about it is taken by the database, in database time, inside one statement, so no node's
 * clock is ever compared with another's. The holder's own view ({@link LeaseHolder}) runs on its
 * local monotonic clock only and gives the lease up before the database could give it to someone
 * else. Nothing depends on a database session, so the lease works behind a transaction-mode
 * pooler and through a pool that recycles connections.
 */
package io.hacluster.election;
