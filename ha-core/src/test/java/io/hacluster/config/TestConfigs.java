package io.hacluster.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Test inputs shared by the configuration tests. */
final class TestConfigs {

    /** Passwords in config.json; no string form of a configuration may contain any of them. */
    static final String MASTER_PASSWORD = "Master-Pa55word";
    static final String REPLICA_PASSWORD = "Replica-Pa55word";
    static final String LAG_PASSWORD = "Lag-Pa55word";

    private TestConfigs() {
    }

    /** The Mattermost-shaped sample in src/test/resources/config/config.json. */
    static String sampleJson() {
        return resource("/config/config.json");
    }

    static String resource(String name) {
        try (InputStream in = TestConfigs.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
