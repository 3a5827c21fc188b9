package io.hacluster.config;

/**
 * One setting that differs between two configurations (see {@link ConfigChanges#between}).
 *
 * @param setting {@code Section.Field} for a field of ClusterSettings, SqlSettings or JobSettings;
 *     the bare section name for another section (which this library carries but does not read)
 * @param before the effective value before, for display: strings with any DSN password masked,
 *     cut at {@value ConfigChanges#MAX_VALUE_CHARS} characters; null where values are never shown
 *     (Mattermost fields kept unread, such as {@code SqlSettings.AtRestEncryptKey}, and other
 *     sections, which may hold secrets) and for a section that was absent
 * @param after the effective value after, in the same form
 * @param usedByLibrary whether ha-cluster acts on this setting; false for Mattermost's fields it
 *     only carries ({@code SqlSettings.Trace}, {@code JobSettings.CleanupConfigThresholdDays}) and
 *     for other sections, which are the application's to apply
 */
public record ConfigDifference(String setting, String before, String after, boolean usedByLibrary) {

    /** The section part of {@link #setting()}. */
    public String section() {
        int dot = setting.indexOf('.');
        return dot < 0 ? setting : setting.substring(0, dot);
    }

    /** The field part of {@link #setting()}, or "" for a whole other section. */
    public String field() {
        int dot = setting.indexOf('.');
        return dot < 0 ? "" : setting.substring(dot + 1);
    }
}
