package io.hacluster;

import io.hacluster.config.ClusterSettings;
import io.hacluster.health.HealthLimits;
import io.hacluster.messaging.MessengerConfig;
import io.hacluster.messaging.StreamKeys;
import io.hacluster.messaging.StreamSecurity;
import io.hacluster.messaging.StreamTls;
import io.hacluster.messaging.TlsPeerIdentity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * ClusterSettings' StreamingPort security and health-endpoint bounds, as the messenger's and the
 * health server's settings (docs/security.md). A node in a cluster admits stream connections only
 * from current gossip members (at their advertised address unless {@code StreamRequireMemberAddress}
 * is false); with TLS on, certificates are bound to ids per {@code StreamTlsPeerIdentity}; with
 * cluster keys, the HELLO is keyed.
 */
final class StreamSecurityMapper {

    private StreamSecurityMapper() {
    }

    /**
     * Applies the settings to {@code b}: the security and, with {@code StreamTlsEnabled}, the TLS
     * contexts built from the configured files.
     *
     * @param keys the cluster keys for the keyed HELLO, or null for none
     * @throws ClusterStartException when a TLS file or store cannot be used (the message names it,
     *     never a password)
     */
    static MessengerConfig.Builder apply(ClusterSettings s, StreamKeys keys, MessengerConfig.Builder b) {
        StreamSecurity security = StreamSecurity.strict()
                .withTlsIdentity(identity(s.streamTlsPeerIdentity()))
                .withMembership(true, s.streamRequireMemberAddress())
                .withMaxPendingHandshakes(s.streamMaxPendingHandshakes())
                .withKeys(keys);
        b.security(security);
        if (s.streamTlsEnabled()) {
            StreamTls tls = tls(s);
            b.tls(tls.server(), tls.client());
        }
        return b;
    }

    /** The health endpoint's bounds. */
    static HealthLimits healthLimits(ClusterSettings s) {
        return new HealthLimits(HealthLimits.defaults().maxConnections(), s.healthMaxConnectionsPerSource(),
                Duration.ofSeconds(s.healthRequestTimeoutSeconds()));
    }

    static StreamTls tls(ClusterSettings s) {
        boolean mutual = "require".equalsIgnoreCase(s.streamTlsClientAuth());
        try {
            if (!s.streamTlsKeyStoreFile().isBlank()) {
                return StreamTls.fromStores(Path.of(s.streamTlsKeyStoreFile()), s.streamTlsKeyStoreType(),
                        s.streamTlsKeyStorePassword().toCharArray(), Path.of(s.streamTlsTrustStoreFile()),
                        s.streamTlsTrustStoreType(), s.streamTlsTrustStorePassword().toCharArray(), mutual);
            }
            return StreamTls.fromPem(Path.of(s.streamTlsCertFile()), Path.of(s.streamTlsKeyFile()),
                    s.streamTlsKeyPassword(), Path.of(s.streamTlsCaFile()), mutual);
        } catch (IllegalArgumentException e) {
            throw new ClusterStartException("StreamingPort TLS: " + e.getMessage(), e);
        }
    }

    static TlsPeerIdentity identity(String setting) {
        return switch (setting.toLowerCase(Locale.ROOT)) {
            case "node-id" -> TlsPeerIdentity.NODE_ID;
            case "none" -> TlsPeerIdentity.NONE;
            default -> TlsPeerIdentity.ADDRESS;
        };
    }
}
