package io.hacluster.gossip;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * The state machine's mutable record of one node (memberlist's {@code nodeState}). Confined to
 * the state-machine thread; {@link #toMember()} makes the immutable snapshot others see.
 */
final class NodeState {

    final String name;
    byte[] addr;
    int port;
    byte[] meta;
    /** Unsigned 32-bit incarnation held in a long. */
    long incarnation;
    MemberState state;
    long stateChangeNanos;
    int pMin;
    int pMax;
    int pCur;
    int dMin;
    int dMax;
    int dCur;
    private InetSocketAddress socketAddress;

    NodeState(String name, byte[] addr, int port, byte[] meta, MemberState state) {
        this.name = name;
        this.addr = addr;
        this.port = port;
        this.meta = meta;
        this.state = state;
    }

    /** Sets the six version bytes of an alive message or node state; ignored when shorter. */
    void setVersions(byte[] vsn) {
        if (vsn != null && vsn.length >= 6) {
            pMin = vsn[0] & 0xFF;
            pMax = vsn[1] & 0xFF;
            pCur = vsn[2] & 0xFF;
            dMin = vsn[3] & 0xFF;
            dMax = vsn[4] & 0xFF;
            dCur = vsn[5] & 0xFF;
        }
    }

    /** Whether an alive carried this node's full version vector (else all six are 0: unknown). */
    boolean hasVersions() {
        return pMax != 0;
    }

    byte[] versions() {
        return new byte[] {(byte) pMin, (byte) pMax, (byte) pCur, (byte) dMin, (byte) dMax, (byte) dCur};
    }

    void setAddress(byte[] newAddr, int newPort) {
        addr = newAddr;
        port = newPort;
        socketAddress = null;
    }

    /** The UDP/TCP address; null when the advertised bytes are not an IP address. */
    InetSocketAddress socketAddress() {
        if (socketAddress == null) {
            socketAddress = toSocketAddress(addr, port);
        }
        return socketAddress;
    }

    boolean isGone() {
        return state.isGone();
    }

    Member toMember() {
        InetSocketAddress a = socketAddress();
        if (a == null) {
            a = InetSocketAddress.createUnresolved("invalid", port);
        }
        return new Member(name, a, meta, state, incarnation, pMin, pMax, pCur, dMin, dMax, dCur);
    }

    static InetSocketAddress toSocketAddress(byte[] addr, int port) {
        if (addr == null || (addr.length != 4 && addr.length != 16)) {
            return null;
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(addr), port);
        } catch (UnknownHostException e) {
            return null; // unreachable: length checked above
        }
    }
}
