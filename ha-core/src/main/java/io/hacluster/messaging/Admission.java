package io.hacluster.messaging;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Whether an accepted connection may be the node its HELLO names, as far as this node's view of
 * the membership can tell (the {@link StreamSecurity} flags): the id must be a member that gossip
 * reports alive or suspect, and the connection must come from the IP gossip advertises for it.
 * Without a key or a certificate the address is the only evidence of identity; see docs/security.md
 * for what it cannot prove.
 */
final class Admission {

    private final Messenger m;

    Admission(Messenger messenger) {
        this.m = messenger;
    }

    /** The advertised IP of member {@code nodeId}, or null when it is not a current member. */
    InetAddress memberAddress(String nodeId) {
        PeerLink p = m.peers.get(nodeId);
        if (p == null) {
            return null;
        }
        synchronized (p) {
            return p.address == null || !(p.state == PeerState.ALIVE || p.state == PeerState.SUSPECT)
                    ? null : p.address.getAddress();
        }
    }

    /** Why the connection from {@code remote} may not be node {@code nodeId}, or null. */
    String refusal(String nodeId, InetSocketAddress remote) {
        StreamSecurity s = m.config.security();
        if (!s.requireMembership() && !s.requireMemberAddress()) {
            return null;
        }
        InetAddress advertised = memberAddress(nodeId);
        if (advertised == null) {
            return s.requireMembership() ? "node " + LogText.escape(nodeId) + " is not a current member" : null;
        }
        if (s.requireMemberAddress() && (remote == null || !sameHost(remote.getAddress(), advertised))) {
            return "node " + LogText.escape(nodeId) + " is a member at " + advertised.getHostAddress()
                    + ", not at " + (remote == null ? "an unknown address" : remote.getAddress().getHostAddress());
        }
        return null;
    }

    /** Equal IPs, an IPv4 address and its IPv4-mapped IPv6 form counting as one. */
    static boolean sameHost(InetAddress a, InetAddress b) {
        if (a == null || b == null) {
            return false;
        }
        return java.util.Arrays.equals(v4(a), v4(b));
    }

    private static byte[] v4(InetAddress a) {
        byte[] raw = a.getAddress();
        if (a instanceof Inet6Address && raw.length == 16) {
            boolean mapped = true;
            for (int i = 0; i < 10; i++) {
                mapped &= raw[i] == 0;
            }
            mapped &= raw[10] == (byte) 0xff && raw[11] == (byte) 0xff;
            if (mapped) {
                return java.util.Arrays.copyOfRange(raw, 12, 16);
            }
        }
        return raw;
    }
}
