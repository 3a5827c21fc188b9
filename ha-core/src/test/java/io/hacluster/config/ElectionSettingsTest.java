package io.hacluster.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The leader election's settings in JobSettings ({@code LeaderLeaseMilliseconds},
 * {@code LeaderRenewDeadlineMilliseconds}, {@code LeaderRetryPeriodMilliseconds},
 * {@code LeaderElectionQuorum}): defaults, the file, the environment, validation with the rules of
 * LeaseSettings, suggestions for misspelt names, and the configuration hash.
 */
class ElectionSettingsTest {

    @Test
    void defaultsAreKubernetesTimingAndNoQuorum() {
        JobSettings j = HaConfig.parse("{}", Map.of()).jobSettings();
        assertThat(j.leaderLeaseMilliseconds()).isEqualTo(15_000);
        assertThat(j.leaderRenewDeadlineMilliseconds()).isEqualTo(10_000);
        assertThat(j.leaderRetryPeriodMilliseconds()).isEqualTo(2_000);
        assertThat(j.leaderElectionQuorum()).isZero();
        assertThat(j).isEqualTo(JobSettings.defaults()).isEqualTo(new JobSettings(true, true, -1, -1));
    }

    @Test
    void readFromTheFileInAnyCaseAndOverriddenByTheEnvironment() {
        HaConfig config = HaConfig.parse("{\"JobSettings\": {\"LeaderLeaseMilliseconds\": 6000, "
                        + "\"leaderrenewdeadlinemilliseconds\": 3000, \"LeaderRetryPeriodMilliseconds\": 500}}",
                Map.of("HA_JOBSETTINGS_LEADERRETRYPERIODMILLISECONDS", "300",
                        "HA_JobSettings_LeaderElectionQuorum", "2"));
        JobSettings j = config.jobSettings();
        assertThat(j.leaderLeaseMilliseconds()).isEqualTo(6000);
        assertThat(j.leaderRenewDeadlineMilliseconds()).isEqualTo(3000);
        assertThat(j.leaderRetryPeriodMilliseconds()).as("the environment wins over the file").isEqualTo(300);
        assertThat(j.leaderElectionQuorum()).isEqualTo(2);
        assertThat(config.environmentOverrides()).containsOnlyKeys("JobSettings.LeaderRetryPeriodMilliseconds",
                "JobSettings.LeaderElectionQuorum");
        assertThat(config.unusedSettings()).isEmpty();
        // the file form is what is saved: the overrides stay out
        JobSettings saved = HaConfig.parse(config.toJson(), Map.of()).jobSettings();
        assertThat(saved.leaderRetryPeriodMilliseconds()).isEqualTo(500);
        assertThat(saved.leaderElectionQuorum()).isZero();
        assertThat(saved.leaderLeaseMilliseconds()).isEqualTo(6000);
    }

    @Test
    void theEnvironmentAloneCanShortenTheDefaults() {
        JobSettings j = HaConfig.parse("{}", Map.of("HA_JOBSETTINGS_LEADERLEASEMILLISECONDS", "9000",
                "HA_JOBSETTINGS_LEADERRENEWDEADLINEMILLISECONDS", "6000")).jobSettings();
        assertThat(j.leaderLeaseMilliseconds()).isEqualTo(9000);
        assertThat(j.leaderRenewDeadlineMilliseconds()).isEqualTo(6000);
        assertThat(j.leaderRetryPeriodMilliseconds()).isEqualTo(2000);
    }

    @Test
    void aRenewDeadlineNotShorterThanTheLeaseIsRefusedWithTheReason() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> HaConfig.parse("{}",
                Map.of("HA_JOBSETTINGS_LEADERRENEWDEADLINEMILLISECONDS", "15000")));
        assertThat(e.problems()).containsExactly("JobSettings.LeaderRenewDeadlineMilliseconds: 15000 is not less "
                + "than JobSettings.LeaderLeaseMilliseconds (15000); the leader must stop leading before its lease "
                + "can expire in the database, or two nodes could lead at once");
        assertThat(e.getMessage()).contains("environment overrides of JobSettings.LeaderRenewDeadlineMilliseconds");
    }

    @Test
    void aRetryPeriodNotShorterThanTheRenewDeadlineIsRefused() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> HaConfig.parse(
                "{\"JobSettings\": {\"LeaderRenewDeadlineMilliseconds\": 2000, \"LeaderRetryPeriodMilliseconds\": 2500}}",
                Map.of()));
        assertThat(e.problems()).containsExactly("JobSettings.LeaderRetryPeriodMilliseconds: 2500 is not less than "
                + "JobSettings.LeaderRenewDeadlineMilliseconds (2000); the leader would lose its lease on the first "
                + "failed renewal, with no retry before its deadline");
    }

    @Test
    void nonPositiveTimesAndANegativeQuorumAreEachReported() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> HaConfig.parse(
                "{\"JobSettings\": {\"LeaderLeaseMilliseconds\": 0, \"LeaderRenewDeadlineMilliseconds\": -1, "
                        + "\"LeaderRetryPeriodMilliseconds\": 0, \"LeaderElectionQuorum\": -3}}", Map.of()));
        assertThat(e.problems()).containsExactly(
                "JobSettings.LeaderLeaseMilliseconds: 0 must be greater than 0",
                "JobSettings.LeaderRenewDeadlineMilliseconds: -1 must be greater than 0",
                "JobSettings.LeaderRetryPeriodMilliseconds: 0 must be greater than 0",
                "JobSettings.LeaderElectionQuorum: -3 must not be negative");
    }

    @Test
    void aMalformedValueNamesTheVariableAndTheSetting() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> HaConfig.parse("{}",
                Map.of("HA_JOBSETTINGS_LEADERLEASEMILLISECONDS", "15s")));
        assertThat(e.problems()).containsExactly("HA_JOBSETTINGS_LEADERLEASEMILLISECONDS "
                + "(JobSettings.LeaderLeaseMilliseconds): expected an integer in " + Long.MIN_VALUE + ".."
                + Long.MAX_VALUE + ", got \"15s\"");
    }

    @Test
    void misspeltNamesGetASuggestionInTheFileAndTheEnvironment() {
        ConfigException file = catchThrowableOfType(ConfigException.class, () -> HaConfig.parse(
                "{\"JobSettings\": {\"LeaderLeaseMillis\": 6000}}", Map.of()));
        assertThat(file.problems()).containsExactly(
                "JobSettings.LeaderLeaseMillis: unknown field in JobSettings; did you mean LeaderLeaseMilliseconds?");
        ConfigException env = catchThrowableOfType(ConfigException.class, () -> HaConfig.parse("{}",
                Map.of("HA_JOBSETTINGS_LEADERELECTIONQUORUMS", "2")));
        assertThat(env.problems()).containsExactly("HA_JOBSETTINGS_LEADERELECTIONQUORUMS: unknown field "
                + "LEADERELECTIONQUORUMS in JobSettings; did you mean HA_JOBSETTINGS_LEADERELECTIONQUORUM?");
    }

    @Test
    void theHashCoversTheElectionSettings() {
        // nodes that time the lease differently would disagree on when a leader is deposed
        String base = HaConfig.parse("{}", Map.of()).hash();
        assertThat(HaConfig.parse("{\"JobSettings\": {\"LeaderLeaseMilliseconds\": 15000}}", Map.of()).hash())
                .as("writing a default equals leaving it out").isEqualTo(base);
        assertThat(HaConfig.parse("{\"JobSettings\": {\"LeaderLeaseMilliseconds\": 16000}}", Map.of()).hash())
                .isNotEqualTo(base);
        assertThat(HaConfig.parse("{}", Map.of("HA_JOBSETTINGS_LEADERRENEWDEADLINEMILLISECONDS", "9000")).hash())
                .as("an environment override counts, as it is what the node runs with").isNotEqualTo(base);
        assertThat(HaConfig.parse("{}", Map.of("HA_JOBSETTINGS_LEADERRETRYPERIODMILLISECONDS", "1000")).hash())
                .isNotEqualTo(base);
        assertThat(HaConfig.parse("{\"JobSettings\": {\"LeaderElectionQuorum\": 2}}", Map.of()).hash())
                .isNotEqualTo(base);
    }
}
