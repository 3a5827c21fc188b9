package io.hacluster;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * A message between cluster nodes, shaped like Mattermost's {@code model.ClusterMessage}.
 *
 * <p>Only {@code event}, {@code data} and {@code props} travel; {@code sendType} and
 * {@code waitForAllToSend} are local send options. With {@code waitForAllToSend} a reliable send's
 * future completes only when every target has run its handler; without it the future completes
 * once the message is queued for every target.
 *
 * <p>The {@code data} array is not copied (messages are sent at high rates): do not modify it after
 * handing the message to a send method.
 *
 * @param event            handler key, non-empty, at most 1024 UTF-8 bytes
 * @param sendType         {@link SendType#RELIABLE} or {@link SendType#BEST_EFFORT}
 * @param waitForAllToSend whether a reliable send completes on acknowledgement rather than on queueing
 * @param data             payload, never null (null becomes an empty array)
 * @param props            string properties, never null, immutable, no null keys or values
 */
public record ClusterMessage(String event, SendType sendType, boolean waitForAllToSend, byte[] data,
                             Map<String, String> props) {

    private static final byte[] EMPTY = new byte[0];

    public ClusterMessage {
        Objects.requireNonNull(event, "event");
        if (event.isEmpty()) {
            throw new IllegalArgumentException("event must not be empty");
        }
        Objects.requireNonNull(sendType, "sendType");
        data = data == null ? EMPTY : data;
        props = props == null ? Map.of() : Map.copyOf(props);
    }

    /** A reliable message whose send completes once queued. */
    public static ClusterMessage reliable(String event, byte[] data) {
        return new ClusterMessage(event, SendType.RELIABLE, false, data, Map.of());
    }

    /** A best-effort message. */
    public static ClusterMessage bestEffort(String event, byte[] data) {
        return new ClusterMessage(event, SendType.BEST_EFFORT, false, data, Map.of());
    }

    /** This message with {@code waitForAllToSend} set to the given value. */
    public ClusterMessage waitingForAll(boolean wait) {
        return new ClusterMessage(event, sendType, wait, data, props);
    }

    /** This message with the given properties. */
    public ClusterMessage withProps(Map<String, String> newProps) {
        return new ClusterMessage(event, sendType, waitForAllToSend, data, newProps);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClusterMessage m
                && event.equals(m.event) && sendType == m.sendType
                && waitForAllToSend == m.waitForAllToSend
                && Arrays.equals(data, m.data) && props.equals(m.props);
    }

    @Override
    public int hashCode() {
        return Objects.hash(event, sendType, waitForAllToSend, Arrays.hashCode(data), props);
    }

    /** Shows the payload size only: payloads may hold user data. */
    @Override
    public String toString() {
        return "ClusterMessage[event=" + event + ", sendType=" + sendType
                + ", waitForAllToSend=" + waitForAllToSend + ", data=" + data.length + " bytes, props="
                + props.keySet() + "]";
    }
}
