package io.hacluster.messaging;

/**
 * How a peer's TLS certificate is bound to the node id it announces in its HELLO (see
 * docs/security.md). Applied by both sides of a connection: the dialer checks the server's
 * certificate, the acceptor the client's (under mutual TLS). It replaces HTTPS-style host name
 * verification, which does not fit nodes addressed by IP and identified by id.
 */
public enum TlsPeerIdentity {
    /** Any certificate the trust store accepts may claim any id (trust only; not recommended). */
    NONE,
    /**
     * The certificate must name the peer's advertised IP address (the one gossip shows for the
     * member with that id) as a subjectAltName of type IP. Works with ids generated at every start.
     */
    ADDRESS,
    /**
     * The certificate must carry the node id, as a subjectAltName URI {@code urn:ha-cluster:node:<id>}
     * or as its subject CN. Needs stable ids ({@code NodeIdFile}).
     */
    NODE_ID;

    /** The URI scheme prefix of a node id in a certificate's subjectAltName. */
    public static final String NODE_URI_PREFIX = "urn:ha-cluster:node:";
}
