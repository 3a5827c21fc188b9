package io.hacluster.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdvertisedHostTest {

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static InterfaceInfo iface(String name, boolean up, boolean loopback, String... addresses) {
        return new InterfaceInfo(name, up, loopback, Arrays.stream(addresses).map(AdvertisedHostTest::ip).toList());
    }

    private static HostEnvironment env(String hostname, InterfaceInfo... interfaces) {
        return new HostEnvironment() {
            @Override
            public List<InterfaceInfo> interfaces() {
                return List.of(interfaces);
            }

            @Override
            public String hostname() {
                return hostname;
            }
        };
    }

    private final HostEnvironment host = env("app-3.internal",
            iface("lo", true, true, "127.0.0.1", "::1"),
            iface("docker0", false, false, "172.17.0.1"),
            iface("eth0", true, false, "fe80::1", "169.254.10.10", "10.0.0.5", "10.0.0.6"),
            iface("eth1", true, false, "2001:db8::7", "192.168.1.20"),
            iface("wg0", true, false, "2001:db8::9"));

    @Test
    void overrideHostnameWinsOverEverything() {
        assertThat(AdvertisedHost.resolve(" node-a.example ", true, "1.2.3.4", "eth1", host))
                .isEqualTo("node-a.example");
    }

    @Test
    void withoutUseIpAddressTheOsHostnameIsUsed() {
        assertThat(AdvertisedHost.resolve("", false, "1.2.3.4", "eth1", host)).isEqualTo("app-3.internal");
    }

    @Test
    void advertiseAddressBeatsInterfaceLookup() {
        assertThat(AdvertisedHost.resolve(null, true, "203.0.113.9", "eth1", host)).isEqualTo("203.0.113.9");
    }

    @Test
    void firstNonLoopbackNonLinkLocalAddressOfAnyLiveInterface() {
        // lo is loopback, docker0 is down, eth0's link-local addresses are skipped.
        assertThat(AdvertisedHost.resolve(null, true, null, "", host)).isEqualTo("10.0.0.5");
    }

    @Test
    void namedInterfaceIsUsedAndIpv4Preferred() {
        assertThat(AdvertisedHost.resolve(null, true, "", "eth1", host)).isEqualTo("192.168.1.20");
    }

    @Test
    void ipv6OnlyInterfaceGivesItsGlobalAddress() {
        assertThat(AdvertisedHost.resolve(null, true, "", "wg0", host)).isEqualTo("2001:db8:0:0:0:0:0:9");
    }

    @Test
    void unknownInterfaceIsAClearError() {
        assertThatThrownBy(() -> AdvertisedHost.resolve(null, true, "", "eth9", host))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("eth9");
    }

    @Test
    void noUsableAddressIsAClearError() {
        HostEnvironment loopbackOnly = env("h", iface("lo", true, true, "127.0.0.1"),
                iface("eth0", true, false, "fe80::2"));
        assertThatThrownBy(() -> AdvertisedHost.resolve(null, true, "", "", loopbackOnly))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("AdvertiseAddress");
    }

    @Test
    void realHostResolvesToSomething() {
        // The OS host name path works on any machine, whatever its interfaces.
        assertThat(AdvertisedHost.resolve(null, false, null, null, HostEnvironment.system())).isNotBlank();
    }
}
