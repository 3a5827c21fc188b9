package io.hacluster;

import java.net.InetSocketAddress;

/**
 * One gossip member as this node sees it.
 *
 * @param id            node id (the gossip node name)
 * @param gossipAddress where gossip reaches it
 * @param state         alive, suspect, dead or left
 * @param incarnation   the member's incarnation number: it only grows while the member lives, and
 *                      a restarted member comes back with a higher one
 * @param local         whether this is the local node
 */
public record ClusterMember(String id, InetSocketAddress gossipAddress, MembershipState state, long incarnation,
                            boolean local) {
}
