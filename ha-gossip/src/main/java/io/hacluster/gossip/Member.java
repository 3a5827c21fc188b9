package io.hacluster.gossip;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable snapshot of one member as the local node sees it.
 *
 * @param name           the unique node name
 * @param address        the member's gossip address (UDP and TCP)
 * @param meta           application metadata, at most {@link GossipConfig#META_MAX_SIZE} bytes
 * @param state          alive, suspect, dead or left
 * @param incarnation    the member's incarnation number (memberlist's unsigned 32-bit value)
 * @param protocolMin    lowest memberlist protocol version the member speaks
 * @param protocolMax    highest memberlist protocol version the member speaks
 * @param protocolVersion the protocol version the member currently speaks
 * @param delegateMin    lowest delegate (application) protocol version
 * @param delegateMax    highest delegate protocol version
 * @param delegateVersion the delegate protocol version currently in use
 */
public record Member(String name, InetSocketAddress address, byte[] meta, MemberState state,
                     long incarnation, int protocolMin, int protocolMax, int protocolVersion,
                     int delegateMin, int delegateMax, int delegateVersion) {

    public Member {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(state, "state");
        meta = meta == null ? new byte[0] : meta.clone();
    }

    /** A copy of the metadata bytes. */
    @Override
    public byte[] meta() {
        return meta.clone();
    }

    /** True while the member is alive or suspect. */
    public boolean isLive() {
        return !state.isGone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Member m && name.equals(m.name) && address.equals(m.address)
                && Arrays.equals(meta, m.meta) && state == m.state && incarnation == m.incarnation
                && protocolMin == m.protocolMin && protocolMax == m.protocolMax
                && protocolVersion == m.protocolVersion && delegateMin == m.delegateMin
                && delegateMax == m.delegateMax && delegateVersion == m.delegateVersion;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, address, Arrays.hashCode(meta), state, incarnation);
    }

    @Override
    public String toString() {
        return "Member[" + name + " " + address.getAddress().getHostAddress() + ":" + address.getPort()
                + " " + state + " inc=" + incarnation + " meta=" + meta.length + "B"
                + " vsn=" + protocolMin + "/" + protocolMax + "/" + protocolVersion
                + " dvsn=" + delegateMin + "/" + delegateMax + "/" + delegateVersion + "]";
    }
}
