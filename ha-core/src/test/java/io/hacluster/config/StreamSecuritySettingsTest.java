package io.hacluster.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The StreamingPort's TLS and the health endpoint's bounds as settings: names, overrides, rules, masking. */
class StreamSecuritySettingsTest {

    private static List<String> problems(ClusterSettings.Builder b) {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> HaConfig.builder().clusterSettings(b.build()).build());
        assertThat(e).as("expected the configuration to be rejected").isNotNull();
        return e.problems();
    }

    @Test
    void theFieldsAreReadFromTheFileAndFromTheEnvironmentWithPasswordsMasked() {
        String json = """
                {"ClusterSettings": {"StreamTlsEnabled": true, "StreamTlsKeyStoreFile": "/etc/ha/node.p12",
                  "StreamTlsKeyStorePassword": "s3cret-store", "StreamTlsTrustStoreFile": "/etc/ha/trust.p12",
                  "StreamTlsPeerIdentity": "address", "HealthMaxConnectionsPerSource": 4}}
                """;
        HaConfig config = HaConfig.parse(json, Map.of(
                "HA_CLUSTERSETTINGS_STREAMTLSTRUSTSTOREPASSWORD", "s3cret-trust",
                "HA_CLUSTERSETTINGS_STREAMMAXPENDINGHANDSHAKES", "16",
                "HA_CLUSTERSETTINGS_STREAMTLSCLIENTAUTH", "none",
                "HA_CLUSTERSETTINGS_STREAMREQUIREMEMBERADDRESS", "false",
                "HA_CLUSTERSETTINGS_HEALTHREQUESTTIMEOUTSECONDS", "2"));
        ClusterSettings c = config.clusterSettings();
        assertThat(c.streamTlsEnabled()).isTrue();
        assertThat(c.streamTlsKeyStorePassword()).isEqualTo("s3cret-store");
        assertThat(c.streamTlsTrustStorePassword()).isEqualTo("s3cret-trust");
        assertThat(c.streamMaxPendingHandshakes()).isEqualTo(16);
        assertThat(c.streamTlsClientAuth()).isEqualTo("none");
        assertThat(c.streamRequireMemberAddress()).isFalse();
        assertThat(c.healthRequestTimeoutSeconds()).isEqualTo(2);
        assertThat(c.healthMaxConnectionsPerSource()).isEqualTo(4);
        assertThat(c.streamTlsKeyStoreType()).isEqualTo("PKCS12");
        assertThat(c.toString() + config).doesNotContain("s3cret").contains("streamTlsKeyStorePassword=****")
                .contains("streamTlsKeyPassword=,");  // an empty password is shown as empty
    }

    @Test
    void badValuesAreReportedTogether() {
        assertThat(problems(ClusterSettings.builder().streamTlsClientAuth("optional").streamTlsPeerIdentity("cn")
                .streamTlsKeyStoreType("PEM").streamMaxPendingHandshakes(0).healthMaxConnectionsPerSource(0)
                .healthRequestTimeoutSeconds(-1))).containsExactlyInAnyOrder(
                "ClusterSettings.StreamTlsClientAuth: \"optional\" is not one of require, none",
                "ClusterSettings.StreamTlsPeerIdentity: \"cn\" is not one of address, node-id, none",
                "ClusterSettings.StreamTlsKeyStoreType: \"PEM\" is not one of PKCS12, JKS",
                "ClusterSettings.StreamMaxPendingHandshakes: 0 must be greater than 0",
                "ClusterSettings.HealthRequestTimeoutSeconds: -1 must be greater than 0",
                "ClusterSettings.HealthMaxConnectionsPerSource: 0 must be greater than 0");
    }

    @Test
    void tlsNeedsOneCompleteKindOfMaterial() {
        assertThat(problems(ClusterSettings.builder().streamTlsEnabled(true))).singleElement().asString()
                .contains("neither StreamTlsCertFile");
        assertThat(problems(ClusterSettings.builder().streamTlsEnabled(true).streamTlsCertFile("c.pem")))
                .containsExactlyInAnyOrder(
                        "ClusterSettings.StreamTlsKeyFile: is empty, but StreamTlsEnabled is true and the other files of its kind are set",
                        "ClusterSettings.StreamTlsCaFile: is empty, but StreamTlsEnabled is true and the other files of its kind are set");
        assertThat(problems(ClusterSettings.builder().streamTlsEnabled(true).streamTlsCertFile("c.pem")
                .streamTlsKeyFile("k.pem").streamTlsCaFile("ca.pem").streamTlsKeyStoreFile("k.p12")
                .streamTlsTrustStoreFile("t.p12"))).singleElement().asString().contains("give one or the other");
        assertThat(problems(ClusterSettings.builder().streamTlsEnabled(true).streamTlsCertFile("c.pem")
                .streamTlsKeyFile("k.pem").streamTlsCaFile("ca.pem").streamTlsPeerIdentity("node-id")))
                .singleElement().asString().contains("needs a stable node id");
    }
}
