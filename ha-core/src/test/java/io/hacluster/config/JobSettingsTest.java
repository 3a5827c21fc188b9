package io.hacluster.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The JobSettings section: Mattermost's names and defaults, overrides, hashing and saving. */
class JobSettingsTest {

    @Test
    void defaultsAreMattermosts() {
        JobSettings defaults = HaConfig.parse("{}", Map.of()).jobSettings();
        assertThat(defaults).isEqualTo(new JobSettings(true, true, -1, -1)).isEqualTo(JobSettings.defaults());
    }

    @Test
    void readFromTheFileInAnyCaseAndOverriddenByTheEnvironment() {
        HaConfig config = HaConfig.parse("{\"jobsettings\": {\"RunJobs\": false, \"cleanupjobsthresholddays\": 30}}",
                Map.of("HA_JOBSETTINGS_RUNSCHEDULER", "false", "HA_JobSettings_CleanupConfigThresholdDays", "7"));
        assertThat(config.jobSettings()).isEqualTo(new JobSettings(false, false, 30, 7));
        assertThat(config.environmentOverrides()).containsOnlyKeys("JobSettings.RunScheduler",
                "JobSettings.CleanupConfigThresholdDays");
        // The file form is what is saved: the overrides stay out.
        assertThat(HaConfig.parse(config.toJson(), Map.of()).jobSettings()).isEqualTo(new JobSettings(false, true, 30, -1));
        // ha-cluster keeps no configuration in the database: a non-default threshold is listed as unused.
        assertThat(config.unusedSettings()).containsExactly("JobSettings.CleanupConfigThresholdDays");
    }

    @Test
    void badValuesAreReportedByFieldAndVariable() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> HaConfig.parse(
                "{\"JobSettings\": {\"RunJobs\": \"yes\"}}", Map.of("HA_JOBSETTINGS_CLEANUPJOBSTHRESHOLDDAYS", "30d")));
        assertThat(e.problems()).containsExactly(
                "JobSettings.RunJobs: expected true or false, got \"yes\"",
                "HA_JOBSETTINGS_CLEANUPJOBSTHRESHOLDDAYS (JobSettings.CleanupJobsThresholdDays): expected an integer "
                        + "in -2147483648..2147483647, got \"30d\"");
    }

    @Test
    void theHashCoversJobSettingsExceptTheNodeSpecificRoles() {
        // RunJobs and RunScheduler say what this node does (a job-only node that never leads is a
        // supported topology), so they may differ between nodes without a RED config mismatch
        String base = HaConfig.parse("{}", Map.of()).hash();
        assertThat(HaConfig.parse("{\"JobSettings\": {\"RunJobs\": false}}", Map.of()).hash()).isEqualTo(base);
        assertThat(HaConfig.parse("{\"JobSettings\": {\"RunScheduler\": false}}", Map.of()).hash()).isEqualTo(base);
        assertThat(HaConfig.parse("{}", Map.of("HA_JOBSETTINGS_RUNSCHEDULER", "0")).hash()).isEqualTo(base);
        assertThat(HaConfig.parse("{\"JobSettings\": {\"CleanupJobsThresholdDays\": 5}}", Map.of()).hash())
                .isNotEqualTo(base);
    }

    @Test
    void savedWhenGivenOrChangedAndNotOtherwise() {
        assertThat(HaConfig.parse("{}", Map.of()).toJson()).doesNotContain("JobSettings");
        assertThat(HaConfig.parse("{\"JobSettings\": {}}", Map.of()).toJson()).contains("\"RunScheduler\": true");
        HaConfig changed = HaConfig.builder().build().withJobSettings(JobSettings.builder().runJobs(false).build());
        assertThat(changed.jobSettings().runJobs()).isFalse();
        assertThat(HaConfig.parse(changed.toJson(), Map.of())).isEqualTo(changed);
        HaConfig built = HaConfig.builder().jobSettings(JobSettings.defaults()).build();
        assertThat(built.toJson()).contains("\"JobSettings\"");
        assertThat(JobSettings.defaults().toBuilder().cleanupJobsThresholdDays(3).build().cleanupJobsThresholdDays())
                .isEqualTo(3);
    }
}
