package io.hacluster;

import java.util.Objects;

/**
 * One setting a {@linkplain ClusterNode#reloadConfig() configuration reload} found changed, and
 * what the node did with it.
 *
 * @param setting {@code Section.Field}, or a bare section name for a section the library does not read
 * @param before the value in force before, for display (DSN passwords masked); null where values
 *     are never shown (fields and sections the library only carries: they may hold secrets)
 * @param after the value in the reloaded configuration, in the same form
 * @param status what the node did
 */
public record SettingChange(String setting, String before, String after, Status status) {

    /** What a reload did with a changed setting. */
    public enum Status {
        /** In force now. */
        APPLIED,
        /**
         * Not applied: the node keeps running with the value it started with (and advertises the
         * config hash of what it runs) until it is restarted with the new file.
         */
        RESTART_REQUIRED,
        /**
         * Not read by ha-cluster (another section, or a Mattermost field it only carries): in force
         * in {@link ClusterNode#config()} for the application to act on.
         */
        NOT_USED,
        /** Would have applied, but the reload failed ({@link ConfigReloadResult#error()}): not applied. */
        REJECTED
    }

    public SettingChange {
        Objects.requireNonNull(setting, "setting");
        Objects.requireNonNull(status, "status");
    }
}
