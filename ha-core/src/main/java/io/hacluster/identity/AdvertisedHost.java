package io.hacluster.identity;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * Decides the host a node advertises to its peers (in the discovery table and the gossip node
 * meta), following Mattermost's rules:
 * <ol>
 *   <li>{@code OverrideHostname} when set;</li>
 *   <li>else, with {@code UseIpAddress}, the {@code AdvertiseAddress} when set, or the first
 *       address of {@code NetworkInterface} (of any interface when that is empty) that is
 *       neither loopback nor link-local; IPv4 is preferred, as Mattermost only looks at IPv4,
 *       and a global IPv6 address is taken only when a host has no such IPv4 address;</li>
 *   <li>else the OS host name.</li>
 * </ol>
 */
public final class AdvertisedHost {

    private AdvertisedHost() {
    }

    /**
     * Resolves the advertised host.
     *
     * @throws IllegalStateException when {@code UseIpAddress} applies and no usable address
     *     exists, or the named interface does not exist: a node must not advertise nothing
     */
    public static String resolve(String overrideHostname, boolean useIpAddress, String advertiseAddress,
                                 String networkInterface, HostEnvironment env) {
        if (!isBlank(overrideHostname)) {
            return overrideHostname.strip();
        }
        if (!useIpAddress) {
            return env.hostname();
        }
        if (!isBlank(advertiseAddress)) {
            return advertiseAddress.strip();
        }
        return firstUsableAddress(networkInterface, env.interfaces())
                .map(AdvertisedHost::format)
                .orElseThrow(() -> new IllegalStateException(isBlank(networkInterface)
                        ? "UseIpAddress is set but no interface has a non-loopback, non-link-local address; "
                          + "set AdvertiseAddress or OverrideHostname"
                        : "UseIpAddress is set but interface '" + networkInterface
                          + "' does not exist or has no non-loopback, non-link-local address"));
    }

    static Optional<InetAddress> firstUsableAddress(String networkInterface, List<InterfaceInfo> interfaces) {
        InetAddress firstV6 = null;
        for (InterfaceInfo iface : interfaces) {
            if (!isBlank(networkInterface) && !iface.name().equals(networkInterface.strip())) {
                continue;
            }
            if (isBlank(networkInterface) && (!iface.up() || iface.loopback())) {
                // Without a named interface only live, non-loopback interfaces count.
                continue;
            }
            for (InetAddress address : iface.addresses()) {
                if (!usable(address)) {
                    continue;
                }
                if (address instanceof Inet4Address) {
                    return Optional.of(address);
                }
                if (firstV6 == null) {
                    firstV6 = address;
                }
            }
        }
        return Optional.ofNullable(firstV6);
    }

    private static boolean usable(InetAddress address) {
        return !address.isLoopbackAddress() && !address.isLinkLocalAddress()
                && !address.isAnyLocalAddress() && !address.isMulticastAddress();
    }

    private static String format(InetAddress address) {
        String text = address.getHostAddress();
        int zone = text.indexOf('%');
        return zone >= 0 ? text.substring(0, zone) : text;
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
