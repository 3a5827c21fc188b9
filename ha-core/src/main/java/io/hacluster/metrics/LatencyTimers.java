package io.hacluster.metrics;

import io.hacluster.messaging.MessengerObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The messenger's latencies as Micrometer timers: send-to-acknowledgement (one histogram for the
 * node) and handler time per event and outcome. Recording is on the path of every message, so it
 * is one map lookup and one {@link Timer#record} call, and the per-message timers carry no
 * client-side percentiles: those cost about twice a histogram bucket update per record
 * (measured: ~500 against ~250 ns on the loaded build machine), and the histogram already gives
 * percentiles across nodes through {@code histogram_quantile}. Events are only those with a
 * registered handler, so the tag's values are bounded by the application's registrations, never
 * by what peers send.
 */
final class LatencyTimers implements MessengerObserver {

    private final MeterRegistry registry;
    private final Tags tags;
    private final Timer ack;
    private final Map<String, Timer[]> handlers = new ConcurrentHashMap<>();

    LatencyTimers(MeterRegistry registry, Tags tags) {
        this.registry = registry;
        this.tags = tags;
        this.ack = histogram("ha.messaging.ack.latency",
                "from queueing a reliable message for a peer to that peer's acknowledgement", tags)
                .register(registry);
    }

    /**
     * A timer with a bounded Prometheus histogram (1 ms to 30 s), so that
     * {@code histogram_quantile} gives its percentiles, also across nodes.
     */
    static Timer.Builder histogram(String name, String description, Tags tags) {
        return Timer.builder(name).description(description).tags(tags)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(30));
    }

    @Override
    public void acknowledged(long nanos) {
        ack.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void handled(String event, long nanos, boolean failed) {
        Timer[] pair = handlers.get(event);
        if (pair == null) {
            pair = handlers.computeIfAbsent(event, e -> new Timer[] {handlerTimer(e, "success"), handlerTimer(e, "failure")});
        }
        pair[failed ? 1 : 0].record(nanos, TimeUnit.NANOSECONDS);
    }

    private Timer handlerTimer(String event, String outcome) {
        return Timer.builder("ha.messaging.handler.time")
                .description("time a message handler ran, by event and outcome")
                .tags(tags.and("event", event, "outcome", outcome))
                .register(registry);
    }
}
