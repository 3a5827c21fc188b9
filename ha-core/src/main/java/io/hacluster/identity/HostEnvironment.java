package io.hacluster.identity;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The host facts that decide the advertised host: the network interfaces and the OS host name.
 * {@link #system()} reads the real ones; tests pass fixed lists.
 */
public interface HostEnvironment {

    /** Network interfaces in OS order. */
    List<InterfaceInfo> interfaces();

    /** The OS host name, as Go's {@code os.Hostname()} gives it. */
    String hostname();

    /** The host this JVM runs on. */
    static HostEnvironment system() {
        return new HostEnvironment() {
            @Override
            public List<InterfaceInfo> interfaces() {
                try {
                    List<InterfaceInfo> result = new ArrayList<>();
                    for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                        result.add(new InterfaceInfo(ni.getName(), ni.isUp(), ni.isLoopback(),
                                Collections.list(ni.getInetAddresses())));
                    }
                    return result;
                } catch (SocketException e) {
                    throw new UncheckedIOException("cannot list network interfaces", e);
                }
            }

            @Override
            public String hostname() {
                try {
                    return InetAddress.getLocalHost().getHostName();
                } catch (UnknownHostException e) {
                    throw new UncheckedIOException("cannot determine the OS host name", e);
                }
            }
        };
    }
}
