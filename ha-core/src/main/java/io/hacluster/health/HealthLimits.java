package io.hacluster.health;

import java.time.Duration;
import java.util.Objects;

/**
 * Bounds of the {@link HealthServer} against slow or greedy clients: a load balancer's probe is
 * answered while another source holds connections open or trickles bytes.
 *
 * @param maxConnections  open connections in all; more are closed on accept and counted
 * @param maxPerSource    open connections from one source IP; more are closed on accept and counted,
 *                        so one source cannot take the places of the others
 * @param requestDeadline time from accept to a complete request; a client still sending its request
 *                        then is closed (a per-read timeout alone lets one byte a second last forever)
 */
public record HealthLimits(int maxConnections, int maxPerSource, Duration requestDeadline) {

    public HealthLimits {
        Objects.requireNonNull(requestDeadline, "requestDeadline");
        if (maxConnections < 1 || maxPerSource < 1) {
            throw new IllegalArgumentException("connection limits must be positive");
        }
        if (requestDeadline.isNegative() || requestDeadline.isZero()) {
            throw new IllegalArgumentException("requestDeadline must be positive: " + requestDeadline);
        }
    }

    /** 64 connections, 8 per source, 5 s to send a request. */
    public static HealthLimits defaults() {
        return new HealthLimits(64, 8, Duration.ofSeconds(5));
    }
}
