package io.hacluster.examples.chat;

import com.fasterxml.jackson.databind.JsonNode;
import io.hacluster.config.HaConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * The chat server's own settings, read from the Mattermost-shaped config.json beside the
 * library's sections:
 * <ul>
 *   <li>{@code ServiceSettings.ListenAddress}: where HTTP and websockets listen, Mattermost's
 *       {@code ":8065"} form ({@code host:port}; an empty host means every interface);</li>
 *   <li>{@code DataRetentionSettings.EnableMessageDeletion} (default false) and
 *       {@code MessageRetentionHours} (default 8760): the retention job deletes older posts;</li>
 *   <li>{@code DataRetentionSettings.DeletionJobIntervalSeconds} (this example's, default 3600):
 *       how often the job runs (Mattermost runs it daily at {@code DeletionJobStartTime}).</li>
 * </ul>
 * The library's {@code HA_<SECTION>_<FIELD>} overrides cover ClusterSettings, SqlSettings and
 * JobSettings; these two sections are read from the file, and {@code node --listen} overrides
 * the address.
 *
 * @param listenHost      host to bind; "" for every interface
 * @param listenPort      TCP port, 0 for any free one
 * @param messageDeletion whether the retention job deletes (it runs and records either way)
 * @param retention       posts older than this are deleted
 * @param retentionEvery  the retention job's period
 * @param maxWebSockets   bound on this node's websocket connections
 * @param pgNotifyFanout  posts reach the other nodes by PostgreSQL {@code NOTIFY} instead of a cluster
 *     message ({@code ChatSettings.Fanout}: {@code "cluster"}, the default, or {@code "postgres-notify"}):
 *     the benchmark's peer, what one might build without a cluster library
 */
public record ChatSettings(String listenHost, int listenPort, boolean messageDeletion, Duration retention,
                           Duration retentionEvery, int maxWebSockets, boolean pgNotifyFanout) {

    public ChatSettings {
        Objects.requireNonNull(listenHost, "listenHost");
        if (listenPort < 0 || listenPort > 65535) {
            throw new IllegalArgumentException("ListenAddress port must be 0 to 65535, got " + listenPort);
        }
        if (retention.isNegative() || retention.isZero()) {
            throw new IllegalArgumentException("MessageRetentionHours must be positive");
        }
        if (retentionEvery.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("DeletionJobIntervalSeconds must be at least 1");
        }
        if (maxWebSockets < 1) {
            throw new IllegalArgumentException("maxWebSockets must be positive");
        }
    }

    /** Reads the two sections of {@code config}; defaults for what is absent. */
    public static ChatSettings from(HaConfig config) {
        JsonNode service = config.otherSections().get("ServiceSettings");
        JsonNode retention = config.otherSections().get("DataRetentionSettings");
        String fanout = text(config.otherSections().get("ChatSettings"), "Fanout", "cluster");
        if (!fanout.equals("cluster") && !fanout.equals("postgres-notify")) {
            throw new IllegalArgumentException("ChatSettings.Fanout must be cluster or postgres-notify, got '"
                    + LogText.escape(fanout) + "'");
        }
        String listen = text(service, "ListenAddress", ":8065");
        int colon = listen.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("ServiceSettings.ListenAddress must be host:port or :port, got '"
                    + listen + "'");
        }
        int port;
        try {
            port = Integer.parseInt(listen.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("ServiceSettings.ListenAddress has no port number: '" + listen + "'");
        }
        return new ChatSettings(listen.substring(0, colon), port,
                retention != null && retention.path("EnableMessageDeletion").asBoolean(false),
                Duration.ofHours(number(retention, "MessageRetentionHours", 8760)),
                Duration.ofSeconds(number(retention, "DeletionJobIntervalSeconds", 3600)), 10_000,
                fanout.equals("postgres-notify"));
    }

    /** The same settings listening on {@code host:port}. */
    public ChatSettings withListen(String host, int port) {
        return new ChatSettings(host, port, messageDeletion, retention, retentionEvery, maxWebSockets, pgNotifyFanout);
    }

    private static String text(JsonNode section, String field, String otherwise) {
        JsonNode v = section == null ? null : section.get(field);
        return v == null || v.isNull() ? otherwise : v.asText();
    }

    private static long number(JsonNode section, String field, long otherwise) {
        JsonNode v = section == null ? null : section.get(field);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.canConvertToLong()) {
            throw new IllegalArgumentException("DataRetentionSettings." + field + " must be a whole number");
        }
        return v.asLong();
    }
}
