package io.hacluster;

import io.hacluster.gossip.MemberState;
import java.net.InetSocketAddress;

/**
 * One gossip member as this node sees it.
 *
 * @param id            node id (the gossip node name)
 * @param gossipAddress where gossip reaches it
 * @param state         alive, suspect, dead or left
 * @param local         whether this is the local node
 */
public record ClusterMember(String id, InetSocketAddress gossipAddress, MemberState state, boolean local) {
}
