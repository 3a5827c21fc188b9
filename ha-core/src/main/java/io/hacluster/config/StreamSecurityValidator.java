package io.hacluster.config;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The rules of the StreamingPort's TLS and admission settings and of the health endpoint's
 * bounds, as configuration problems. Files are not opened here: the node builds its TLS contexts
 * at start and fails then, naming the file.
 */
final class StreamSecurityValidator {

    static final Set<String> CLIENT_AUTH = Set.of("none", "require");
    static final Set<String> PEER_IDENTITY = Set.of("address", "node-id", "none");
    static final Set<String> STORE_TYPES = Set.of("pkcs12", "jks");
    private static final String C = ClusterSettings.SECTION + ".";

    private StreamSecurityValidator() {
    }

    static void check(ClusterSettings c, List<String> problems) {
        if (!CLIENT_AUTH.contains(c.streamTlsClientAuth().toLowerCase(Locale.ROOT))) {
            problems.add(C + "StreamTlsClientAuth: " + SectionSchema.quote(c.streamTlsClientAuth())
                    + " is not one of require, none");
        }
        if (!PEER_IDENTITY.contains(c.streamTlsPeerIdentity().toLowerCase(Locale.ROOT))) {
            problems.add(C + "StreamTlsPeerIdentity: " + SectionSchema.quote(c.streamTlsPeerIdentity())
                    + " is not one of address, node-id, none");
        }
        for (String[] type : new String[][] {{"StreamTlsKeyStoreType", c.streamTlsKeyStoreType()},
                {"StreamTlsTrustStoreType", c.streamTlsTrustStoreType()}}) {
            if (!STORE_TYPES.contains(type[1].toLowerCase(Locale.ROOT))) {
                problems.add(C + type[0] + ": " + SectionSchema.quote(type[1]) + " is not one of PKCS12, JKS");
            }
        }
        if (c.streamTlsEnabled()) {
            boolean pem = !c.streamTlsCertFile().isBlank() || !c.streamTlsKeyFile().isBlank()
                    || !c.streamTlsCaFile().isBlank();
            boolean stores = !c.streamTlsKeyStoreFile().isBlank() || !c.streamTlsTrustStoreFile().isBlank();
            if (pem && stores) {
                problems.add(C + "StreamTlsCertFile/StreamTlsKeyStoreFile: both PEM files and key stores are set; "
                        + "give one or the other");
            } else if (pem) {
                requireSet("StreamTlsCertFile", c.streamTlsCertFile(), problems);
                requireSet("StreamTlsKeyFile", c.streamTlsKeyFile(), problems);
                requireSet("StreamTlsCaFile", c.streamTlsCaFile(), problems);
            } else if (stores) {
                requireSet("StreamTlsKeyStoreFile", c.streamTlsKeyStoreFile(), problems);
                requireSet("StreamTlsTrustStoreFile", c.streamTlsTrustStoreFile(), problems);
            } else {
                problems.add(C + "StreamTlsEnabled: true, but neither StreamTlsCertFile, StreamTlsKeyFile and "
                        + "StreamTlsCaFile nor StreamTlsKeyStoreFile and StreamTlsTrustStoreFile are set");
            }
            if ("node-id".equalsIgnoreCase(c.streamTlsPeerIdentity()) && c.nodeIdFile().isBlank()) {
                problems.add(C + "StreamTlsPeerIdentity: \"node-id\" needs a stable node id, but NodeIdFile is empty "
                        + "(a new id at every start cannot be in a certificate); set NodeIdFile or use \"address\"");
            }
        }
        positive("StreamMaxPendingHandshakes", c.streamMaxPendingHandshakes(), problems);
        positive("HealthRequestTimeoutSeconds", c.healthRequestTimeoutSeconds(), problems);
        positive("HealthMaxConnectionsPerSource", c.healthMaxConnectionsPerSource(), problems);
    }

    private static void requireSet(String field, String value, List<String> problems) {
        if (value.isBlank()) {
            problems.add(C + field + ": is empty, but StreamTlsEnabled is true and the other files of its kind are set");
        }
    }

    private static void positive(String field, long value, List<String> problems) {
        if (value <= 0) {
            problems.add(C + field + ": " + value + " must be greater than 0");
        }
    }
}
