package io.hacluster.messaging;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What became of one send, per target. The targets are those the caller gave; for
 * {@code ClusterNode.send} the other alive and suspect members at the moment of the call, for
 * {@code sendTo} the one node named.
 *
 * @param targets      every node the message was addressed to, in the order they were tried
 * @param acknowledged nodes whose handler ran and acknowledged the message: only reliable messages
 *                     with {@code waitForAllToSend} wait for that, so for others this is empty
 * @param queued       nodes the message was handed to without waiting for an acknowledgement
 *                     (best-effort, or reliable without {@code waitForAllToSend}); no proof of delivery
 * @param failures     nodes it failed for, with the cause (e.g. {@link PeerUnavailableException},
 *                     {@link QueueFullException}, {@link DeliveryTimeoutException})
 */
public record SendResult(List<String> targets, Set<String> acknowledged, Set<String> queued,
                         Map<String, Throwable> failures) {

    public SendResult {
        targets = List.copyOf(targets);
        acknowledged = Set.copyOf(acknowledged);
        queued = Set.copyOf(queued);
        failures = Map.copyOf(failures);
    }

    /** A send that had nobody to go to (a cluster of one). */
    public static SendResult noTargets() {
        return new SendResult(List.of(), Set.of(), Set.of(), Map.of());
    }

    /** Whether the message had no target at all. */
    public boolean noTargetsAtAll() {
        return targets.isEmpty();
    }

    /** Whether every target acknowledged (false when there were none). */
    public boolean allAcknowledged() {
        return !targets.isEmpty() && acknowledged.size() == targets.size();
    }
}
