package io.hacluster.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class LeaseSettingsTest {

    @Test
    void defaultsAreKubernetes() {
        LeaseSettings s = LeaseSettings.defaults();
        assertThat(s.leaseDuration()).isEqualTo(Duration.ofSeconds(15));
        assertThat(s.renewDeadline()).isEqualTo(Duration.ofSeconds(10));
        assertThat(s.retryPeriod()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void everyDurationIsConfigurable() {
        LeaseSettings s = LeaseSettings.defaults().withLeaseDuration(Duration.ofSeconds(30))
                .withRenewDeadline(Duration.ofSeconds(20)).withRetryPeriod(Duration.ofMillis(500));
        assertThat(s).isEqualTo(new LeaseSettings(Duration.ofSeconds(30), Duration.ofSeconds(20), Duration.ofMillis(500)));
    }

    @Test
    void renewDeadlineMustBeShorterThanTheLease() {
        assertThatThrownBy(() -> LeaseSettings.defaults().withRenewDeadline(Duration.ofSeconds(15)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("renewDeadline");
    }

    @Test
    void retryMustBeShorterThanTheRenewDeadline() {
        assertThatThrownBy(() -> LeaseSettings.defaults().withRetryPeriod(Duration.ofSeconds(10)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retryPeriod");
    }

    @Test
    void durationsMustBePositive() {
        assertThatThrownBy(() -> new LeaseSettings(Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retryPeriod must be positive");
        assertThatThrownBy(() -> new LeaseSettings(Duration.ofSeconds(15), Duration.ofSeconds(-1), Duration.ofSeconds(-2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("renewDeadline must be positive");
    }
}
