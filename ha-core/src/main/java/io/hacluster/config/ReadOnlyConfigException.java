package io.hacluster.config;

import java.nio.file.Path;

/**
 * A configuration file was not written because the configuration in force for it has
 * {@code ClusterSettings.Enable} and {@code ClusterSettings.ReadOnlyConfig} both true: in a
 * cluster every node must run the same configuration, so it is changed by editing every node's
 * file (or its environment) and reloading, never through an API on one node. Mattermost's file
 * store refuses the same way ({@code ErrReadOnlyConfiguration}). See docs/operations.md.
 */
public final class ReadOnlyConfigException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    ReadOnlyConfigException(Path file, String why) {
        super("not writing " + file + ": " + why);
        this.file = file;
    }

    /** The file that was not written. */
    public Path file() {
        return file;
    }
}
