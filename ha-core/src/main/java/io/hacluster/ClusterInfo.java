package io.hacluster;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Set;

/**
 * One node as every other node sees it: Mattermost's {@code model.ClusterInfo} fields plus a
 * status. The fields come from the node's gossip meta; {@code ipAddress} is the address gossip
 * reaches it at. An unreachable node keeps the last fields it advertised. As JSON the fields
 * carry Mattermost's names ({@code schema_version}, {@code config_hash}, {@code ipaddress}), so
 * tools that read Mattermost's cluster status read this one.
 *
 * @param id            node id
 * @param version       application version
 * @param schemaVersion database schema version
 * @param configHash    hash of its configuration without ClusterSettings
 * @param ipAddress     gossip address
 * @param hostname      advertised host
 * @param status        GREEN, or RED with {@code reasons}
 * @param reasons       empty exactly when {@code status} is GREEN
 * @param clock         the node's clock offset from this node's clock ({@link ClockOffset#local}
 *                      for this node itself), or null while there is no recent estimate: no
 *                      streaming connection for a minute, or a peer of a version that does not
 *                      answer the time probe
 */
public record ClusterInfo(@JsonProperty("id") String id,
                          @JsonProperty("version") String version,
                          @JsonProperty("schema_version") String schemaVersion,
                          @JsonProperty("config_hash") String configHash,
                          @JsonProperty("ipaddress") String ipAddress,
                          @JsonProperty("hostname") String hostname,
                          @JsonProperty("status") NodeStatus status,
                          @JsonProperty("reasons") Set<StatusReason> reasons,
                          @JsonProperty("clock") ClockOffset clock) {

    public ClusterInfo {
        reasons = Set.copyOf(reasons);
        if ((status == NodeStatus.GREEN) != reasons.isEmpty()) {
            throw new IllegalArgumentException("status " + status + " does not agree with reasons " + reasons);
        }
    }

    /** An entry without a clock estimate (the fields of earlier versions). */
    public ClusterInfo(String id, String version, String schemaVersion, String configHash, String ipAddress,
                       String hostname, NodeStatus status, Set<StatusReason> reasons) {
        this(id, version, schemaVersion, configHash, ipAddress, hostname, status, reasons, null);
    }
}
