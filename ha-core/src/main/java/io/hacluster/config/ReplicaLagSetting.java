package io.hacluster.config;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * One entry of {@code SqlSettings.ReplicaLagSettings}, as in Mattermost: a DSN to run lag queries
 * on, and two SQL queries, each returning rows of {@code (node text, value float)}.
 *
 * <p>{@link #toString()} masks the DSN password.
 *
 * @param dataSource DSN the lag queries run on ({@code DataSource}, default "")
 * @param queryAbsoluteLag SQL returning lag in bytes per node ({@code QueryAbsoluteLag}, default "")
 * @param queryTimeLag SQL returning lag in milliseconds per node ({@code QueryTimeLag}, default "")
 */
public record ReplicaLagSetting(
        @JsonProperty("DataSource") String dataSource,
        @JsonProperty("QueryAbsoluteLag") String queryAbsoluteLag,
        @JsonProperty("QueryTimeLag") String queryTimeLag) {

    /** Null strings become "". */
    public ReplicaLagSetting {
        dataSource = Objects.requireNonNullElse(dataSource, "");
        queryAbsoluteLag = Objects.requireNonNullElse(queryAbsoluteLag, "");
        queryTimeLag = Objects.requireNonNullElse(queryTimeLag, "");
    }

    /** Field values with the DSN password (and anything else that looks like one) masked. */
    @Override
    public String toString() {
        return MaskedRecords.toString(this);
    }
}
