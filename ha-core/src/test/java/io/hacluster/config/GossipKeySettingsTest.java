package io.hacluster.config;

import io.hacluster.gossip.Keyring;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** ClusterSettings.GossipEncryptionKey: read from file and environment, validated, never printed. */
class GossipKeySettingsTest {

    private static final String KEY = Keyring.encodeKey(Keyring.generateKey());

    private static String json(String key) {
        return "{\"ClusterSettings\": {\"Enable\": true, \"ClusterName\": \"c\", "
                + "\"EnableExperimentalGossipEncryption\": true, \"GossipEncryptionKey\": \"" + key + "\"}}";
    }

    @Test
    void theKeyIsReadButNeverPrinted() {
        HaConfig config = HaConfig.parse(json(KEY), Map.of());
        assertThat(config.clusterSettings().gossipEncryptionKey()).isEqualTo(KEY);
        assertThat(config.clusterSettings().gossipVerifyIncoming()).isTrue();
        assertThat(config.clusterSettings().gossipVerifyOutgoing()).isTrue();
        assertThat(config.toString()).doesNotContain(KEY).contains("gossipEncryptionKey=****");
        assertThat(config.clusterSettings().toString()).doesNotContain(KEY);
    }

    @Test
    void environmentOverridesSetTheKeyAndTheVerifyFlags() {
        HaConfig config = HaConfig.parse(json(""), Map.of(
                "HA_CLUSTERSETTINGS_GOSSIPENCRYPTIONKEY", KEY,
                "HA_CLUSTERSETTINGS_GOSSIPVERIFYINCOMING", "false",
                "HA_CLUSTERSETTINGS_GOSSIPVERIFYOUTGOING", "false"));
        assertThat(config.clusterSettings().gossipEncryptionKey()).isEqualTo(KEY);
        assertThat(config.clusterSettings().gossipVerifyIncoming()).isFalse();
        assertThat(config.clusterSettings().gossipVerifyOutgoing()).isFalse();
        assertThat(config.toString()).doesNotContain(KEY);
    }

    @Test
    void aBadKeyIsAProblemThatDoesNotQuoteIt() {
        String almost = KEY.substring(0, 20) + "!!";
        assertThatThrownBy(() -> HaConfig.parse(json(almost), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("GossipEncryptionKey")
                .hasMessageNotContaining(almost)
                .hasMessageNotContaining(KEY.substring(0, 20));
        String shortKey = Keyring.encodeKey(new byte[10]);
        assertThatThrownBy(() -> HaConfig.parse(json(shortKey), Map.of()))
                .hasMessageContaining("16, 24 or 32 bytes")
                .hasMessageNotContaining(shortKey);
    }
}
