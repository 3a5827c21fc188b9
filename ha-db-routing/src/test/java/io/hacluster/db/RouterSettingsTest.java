package io.hacluster.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RouterSettingsTest {

    private static final Dsn MASTER = Dsn.parse("postgres://u:secret1@m:5432/db");

    @Test
    void mattermostDefaults() {
        RouterSettings s = RouterSettings.builder(MASTER).build();
        assertThat(s.maxOpenConns()).isEqualTo(300);
        assertThat(s.maxIdleConns()).isEqualTo(20);
        assertThat(s.connMaxLifetimeMillis()).isEqualTo(3_600_000);
        assertThat(s.connMaxIdleTimeMillis()).isEqualTo(300_000);
        assertThat(s.queryTimeoutSeconds()).isEqualTo(30);
        assertThat(s.monitorIntervalSeconds()).isEqualTo(5);
        assertThat(s.maxLagBytes()).isEqualTo(16_777_216);
        assertThat(s.maxLagMillis()).isEqualTo(10_000);
        assertThat(s.replicas()).isEmpty();
    }

    @Test
    void toStringMasksEveryPassword() {
        RouterSettings s = RouterSettings.builder(MASTER)
                .addReplica(Dsn.parse("postgres://u:secret2@r1/db"))
                .addSearchReplica(Dsn.parse("jdbc:postgresql://s1/db?user=u&password=secret3"))
                .build();
        assertThat(s.toString()).doesNotContain("secret1", "secret2", "secret3").contains("****");
    }

    @Test
    void toBuilderKeepsEverything() {
        RouterSettings s = RouterSettings.builder(MASTER).name("n1").maxOpenConns(7).maxLagBytes(5)
                .addReplica(Dsn.parse("postgres://u:p@r1/db")).build();
        assertThat(s.toBuilder().build()).isEqualTo(s);
    }

    @Test
    void rejectsValuesThatCannotWork() {
        assertThatThrownBy(() -> RouterSettings.builder(MASTER).maxOpenConns(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxOpenConns");
        assertThatThrownBy(() -> RouterSettings.builder(MASTER).monitorIntervalSeconds(0).build())
                .hasMessageContaining("monitorIntervalSeconds");
        assertThatThrownBy(() -> RouterSettings.builder(MASTER).connectionTimeoutMillis(10).build())
                .hasMessageContaining("connectionTimeoutMillis");
        assertThatThrownBy(() -> RouterSettings.builder(null).build()).isInstanceOf(NullPointerException.class);
    }

    @Test
    void socketTimeoutStaysJustAboveTheQueryTimeout() {
        RouterSettings defaults = RouterSettings.builder(MASTER).build();
        // The server's cancel (at the query timeout) must arrive first; then little slack: 32 s,
        // where it was 40 s, well under the 60 s request timeouts of common load balancers.
        assertThat(ServerConnections.socketTimeoutSeconds(defaults))
                .isGreaterThan(defaults.queryTimeoutSeconds())
                .isLessThanOrEqualTo(defaults.queryTimeoutSeconds() + 2);
        assertThat(ServerConnections.socketTimeoutSeconds(defaults.toBuilder().queryTimeoutSeconds(0).build())).isZero();
    }
}
