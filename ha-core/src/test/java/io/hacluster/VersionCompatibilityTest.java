package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VersionCompatibilityTest {

    @Test
    void patchAndSuffixDifferencesAreCompatible() {
        assertThat(VersionCompatibility.compatible("10.5.1", "128", "10.5.7", "128")).isTrue();
        assertThat(VersionCompatibility.compatible("v10.5.1", "128", "10.05.0-rc2", "128")).isTrue();
        assertThat(VersionCompatibility.compatible("10.5", "128", "10.5.0+build.7", "128")).isTrue();
    }

    @Test
    void minorMajorOrSchemaDifferencesAreNot() {
        assertThat(VersionCompatibility.compatible("10.5.1", "128", "10.6.0", "128")).isFalse();
        assertThat(VersionCompatibility.compatible("10.5.1", "128", "11.5.1", "128")).isFalse();
        assertThat(VersionCompatibility.compatible("10.5.1", "128", "10.5.1", "129")).isFalse();
    }

    @Test
    void unparseableVersionsCompareAsWholeStrings() {
        assertThat(VersionCompatibility.compatible("dev", "1", "dev", "1")).isTrue();
        assertThat(VersionCompatibility.compatible("dev", "1", "dev-2", "1")).isFalse();
        assertThat(VersionCompatibility.key("99999999999999999999.1.0", "1")).isEqualTo("99999999999999999999.1|1");
    }
}
