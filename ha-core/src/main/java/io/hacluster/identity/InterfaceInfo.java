package io.hacluster.identity;

import java.net.InetAddress;
import java.util.List;

/**
 * What host resolution needs to know about one network interface: its name, whether it is up
 * and a loopback interface, and its addresses in the order the OS reports them.
 */
public record InterfaceInfo(String name, boolean up, boolean loopback, List<InetAddress> addresses) {

    public InterfaceInfo {
        if (name == null) {
            throw new IllegalArgumentException("interface name must not be null");
        }
        addresses = List.copyOf(addresses);
    }
}
