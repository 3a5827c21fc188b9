package io.hacluster.config;

import java.net.InetSocketAddress;

/**
 * A {@code host:port} address as operators write seeds: {@code node1:8074}, {@code 10.0.0.5:8074}
 * or {@code [fd00::5]:8074}. The host is not resolved here; resolution happens when a seed is
 * contacted, so a seed whose DNS name appears later still works.
 */
record HostPort(String host, int port) {

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    static HostPort parse(String text) {
        String host;
        String portText;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("expected [ipv6]:port");
            }
            host = text.substring(1, close);
            portText = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("expected host:port");
            }
            host = text.substring(0, colon);
            portText = text.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw new IllegalArgumentException("an IPv6 host must be written in brackets, [host]:port");
            }
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("host is empty");
        }
        for (int i = 0; i < host.length(); i++) {
            if (Character.isWhitespace(host.charAt(i)) || host.charAt(i) == '/') {
                throw new IllegalArgumentException("host contains '" + host.charAt(i) + "'");
            }
        }
        if (portText.isEmpty() || portText.length() > 5 || !portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("port is not a number in 1..65535");
        }
        int port = Integer.parseInt(portText);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range 1..65535");
        }
        return new HostPort(host, port);
    }

    /** An unresolved socket address for this host and port. */
    InetSocketAddress toUnresolved() {
        return InetSocketAddress.createUnresolved(host, port);
    }
}
