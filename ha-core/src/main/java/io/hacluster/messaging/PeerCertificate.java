package io.hacluster.messaging;

import java.net.InetAddress;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Binds a TLS peer's certificate (already validated against the trust store by the TLS handshake)
 * to the node id it claims, per {@link TlsPeerIdentity}.
 */
final class PeerCertificate {

    private static final int SAN_URI = 6;
    private static final int SAN_IP = 7;

    private PeerCertificate() {
    }

    /**
     * Why the peer of {@code session} may not claim {@code nodeId}, or null when it may.
     *
     * @param memberAddress the IP gossip advertises for {@code nodeId}, or null when unknown
     */
    static String refusal(SSLSession session, TlsPeerIdentity mode, String nodeId, InetAddress memberAddress) {
        if (mode == TlsPeerIdentity.NONE) {
            return null;
        }
        X509Certificate cert;
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length == 0 || !(chain[0] instanceof X509Certificate x)) {
                return "no X.509 peer certificate";
            }
            cert = x;
        } catch (SSLPeerUnverifiedException e) {
            return "the peer presented no certificate";
        }
        Collection<List<?>> sans;
        try {
            sans = cert.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return "unreadable subjectAltName";
        }
        if (mode == TlsPeerIdentity.NODE_ID) {
            String uri = TlsPeerIdentity.NODE_URI_PREFIX + nodeId;
            if (sans != null) {
                for (List<?> san : sans) {
                    if (san.size() >= 2 && Integer.valueOf(SAN_URI).equals(san.get(0)) && uri.equals(san.get(1))) {
                        return null;
                    }
                }
            }
            if (nodeId.equals(commonName(cert))) {
                return null;
            }
            return "certificate " + describe(cert) + " is not issued to node " + LogText.escape(nodeId);
        }
        if (memberAddress == null) {
            return "no advertised address known for node " + LogText.escape(nodeId) + " to match its certificate";
        }
        if (sans != null) {
            for (List<?> san : sans) {
                if (san.size() >= 2 && Integer.valueOf(SAN_IP).equals(san.get(0)) && san.get(1) instanceof String ip
                        && sameAddress(ip, memberAddress)) {
                    return null;
                }
            }
        }
        return "certificate " + describe(cert) + " does not name " + memberAddress.getHostAddress()
                + ", the address of node " + LogText.escape(nodeId);
    }

    private static boolean sameAddress(String literal, InetAddress address) {
        try {
            return Admission.sameHost(InetAddress.getByName(literal), address);  // an IP literal: no lookup
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static String commonName(X509Certificate cert) {
        try {
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if ("CN".equalsIgnoreCase(rdn.getType())) {
                    return String.valueOf(rdn.getValue());
                }
            }
        } catch (InvalidNameException e) {
            return null;
        }
        return null;
    }

    private static String describe(X509Certificate cert) {
        return "'" + LogText.escape(cert.getSubjectX500Principal().getName()) + "'";
    }
}
