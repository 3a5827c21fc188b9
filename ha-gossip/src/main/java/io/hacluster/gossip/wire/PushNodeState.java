package io.hacluster.gossip.wire;

/**
 * {@code pushNodeState}: keys Name, Addr, Port, Meta, Incarnation, State, Vsn. {@code state} is
 * memberlist's NodeStateType: 0 alive, 1 suspect, 2 dead, 3 left.
 */
public record PushNodeState(String name, byte[] addr, int port, byte[] meta, int incarnation,
                            int state, byte[] vsn) {
}
