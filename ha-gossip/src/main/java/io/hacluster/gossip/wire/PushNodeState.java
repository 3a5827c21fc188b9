package io.hacluster.gossip.wire;

/**
 * {@code pushNodeState}: keys Name, Addr, Port, Meta, Incarnation, State, Vsn. {@code state} is
 * memberlist's NodeStateType: 0 alive, 1 suspect, 2 dead, 3 left (see the constants; the decoder
 * passes any other value through for the state machine to judge).
 */
public record PushNodeState(String name, byte[] addr, int port, byte[] meta, int incarnation,
                            int state, byte[] vsn) {

    /** NodeStateType {@code StateAlive}. */
    public static final int STATE_ALIVE = 0;
    /** NodeStateType {@code StateSuspect}. */
    public static final int STATE_SUSPECT = 1;
    /** NodeStateType {@code StateDead}. */
    public static final int STATE_DEAD = 2;
    /** NodeStateType {@code StateLeft}. */
    public static final int STATE_LEFT = 3;
}
