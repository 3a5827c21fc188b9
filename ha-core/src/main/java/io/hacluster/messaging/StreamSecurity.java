package io.hacluster.messaging;

import java.util.Objects;

/**
 * Who may open a streaming connection, beyond TLS itself (docs/security.md).
 *
 * @param tlsIdentity          how a TLS peer certificate is bound to the id in the HELLO
 * @param keys                 cluster keys for the keyed HELLO (challenge-response HMAC); null or
 *                             an empty key list: plain HELLO
 * @param requireMembership    refuse an accepted connection whose HELLO names a node this messenger
 *                             was not told is alive or suspect (the facade tells it from gossip)
 * @param requireMemberAddress refuse an accepted connection whose source IP is not the IP gossip
 *                             advertises for the id it claims (the one defence without key or TLS)
 * @param maxPendingHandshakes accepted connections that may wait for their handshake at once; more
 *                             are reset on accept and counted
 */
public record StreamSecurity(
        TlsPeerIdentity tlsIdentity,
        StreamKeys keys,
        boolean requireMembership,
        boolean requireMemberAddress,
        int maxPendingHandshakes) {

    public StreamSecurity {
        Objects.requireNonNull(tlsIdentity, "tlsIdentity");
        if (maxPendingHandshakes < 1) {
            throw new IllegalArgumentException("maxPendingHandshakes must be >= 1 but was " + maxPendingHandshakes);
        }
    }

    /**
     * The standalone messenger's default: connections from any node with the cluster name are
     * accepted (the facade, {@code ClusterNode}, uses {@link #strict()} settings from configuration);
     * at most 64 handshakes pending.
     */
    public static StreamSecurity permissive() {
        return new StreamSecurity(TlsPeerIdentity.NONE, null, false, false, 64);
    }

    /** Members only, from their advertised address, certificates bound to addresses; no key. */
    public static StreamSecurity strict() {
        return new StreamSecurity(TlsPeerIdentity.ADDRESS, null, true, true, 64);
    }

    public StreamSecurity withKeys(StreamKeys k) {
        return new StreamSecurity(tlsIdentity, k, requireMembership, requireMemberAddress, maxPendingHandshakes);
    }

    public StreamSecurity withTlsIdentity(TlsPeerIdentity t) {
        return new StreamSecurity(t, keys, requireMembership, requireMemberAddress, maxPendingHandshakes);
    }

    public StreamSecurity withMembership(boolean members, boolean address) {
        return new StreamSecurity(tlsIdentity, keys, members, address, maxPendingHandshakes);
    }

    public StreamSecurity withMaxPendingHandshakes(int n) {
        return new StreamSecurity(tlsIdentity, keys, requireMembership, requireMemberAddress, n);
    }

    @Override
    public String toString() {  // never the key bytes
        return "StreamSecurity[tlsIdentity=" + tlsIdentity + ", keyed=" + (keys != null)
                + ", requireMembership=" + requireMembership + ", requireMemberAddress=" + requireMemberAddress
                + ", maxPendingHandshakes=" + maxPendingHandshakes + "]";
    }
}
