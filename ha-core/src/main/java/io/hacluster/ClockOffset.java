package io.hacluster;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * How far a node's wall clock is from this node's, estimated NTP-style from round trips on the
 * streaming connection (docs/messaging.md, "Clock offset"): of the recent samples, the one with
 * the smallest round-trip delay, since its offset error is at most half that delay.
 *
 * @param offsetMillis    the node's clock minus this node's clock, in milliseconds (positive: the
 *                        node's clock is ahead); 0 for the local node
 * @param delayMillis     the round-trip network delay of the chosen sample, in milliseconds; the
 *                        offset is exact to within half of it
 * @param sampledAtMillis when the chosen sample was taken, on this node's wall clock (epoch
 *                        milliseconds)
 * @param samples         how many recent samples the estimate was chosen from; 0 for the local node
 */
public record ClockOffset(@JsonProperty("offsetMillis") double offsetMillis,
                          @JsonProperty("delayMillis") double delayMillis,
                          @JsonProperty("sampledAtMillis") long sampledAtMillis,
                          @JsonProperty("samples") int samples) {

    /** The local node's entry: its own clock, exactly. */
    public static ClockOffset local(long nowMillis) {
        return new ClockOffset(0, 0, nowMillis, 0);
    }

    /** Half the round-trip delay: the largest error the offset can have if the network is symmetric or not. */
    public double uncertaintyMillis() {
        return delayMillis / 2;
    }
}
