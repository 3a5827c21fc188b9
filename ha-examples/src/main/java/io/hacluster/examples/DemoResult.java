package io.hacluster.examples;

import java.util.List;

/**
 * What the demo scenario observed, so a test can check the facts the printed story claims.
 *
 * @param memberCount          alive gossip members node 1 saw once the cluster formed
 * @param greenCount           GREEN entries in node 1's clusterInfos at that moment
 * @param broadcastReceivers   ids of the nodes whose handler received the reliable broadcast
 * @param publishReceivers     how many nodes received the best-effort publish (UDP, may be fewer)
 * @param gatherReplies        successful gather replies (one per live node, the asker included)
 * @param totalConnections     the sum of the per-node connection counts the gather collected
 * @param readYourWritesSeen   true when the token read returned the row written just before
 * @param tokenReadServer      PostgreSQL cluster_name of the server that answered the token read
 * @param tokenReadOnReplica   true when that server was a standby
 * @param nodeLossObserved     true when both survivors stopped listing the closed node
 * @param pingStatus           HTTP status of {@code GET /api/v4/system/ping} on node 1
 * @param pingAfterShutdownRefused true when the health port refused connections after shutdown
 * @param postgresStopped      true when no PostgreSQL port accepted connections after shutdown
 * @param threadsLeft          names of node threads still alive after shutdown (empty when clean)
 */
public record DemoResult(int memberCount,
                         int greenCount,
                         List<String> broadcastReceivers,
                         int publishReceivers,
                         int gatherReplies,
                         int totalConnections,
                         boolean readYourWritesSeen,
                         String tokenReadServer,
                         boolean tokenReadOnReplica,
                         boolean nodeLossObserved,
                         int pingStatus,
                         boolean pingAfterShutdownRefused,
                         boolean postgresStopped,
                         List<String> threadsLeft) {

    public DemoResult {
        broadcastReceivers = List.copyOf(broadcastReceivers);
        threadsLeft = List.copyOf(threadsLeft);
    }
}
