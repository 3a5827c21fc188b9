package io.hacluster.metrics;

import io.hacluster.messaging.MessengerObserver;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The messenger's latencies as Micrometer timers: send-to-acknowledgement (one histogram for the
 * node) and handler time per event and outcome. Recording is on the path of every message, so it
 * is kept cheap: the per-message timers carry no client-side percentiles (on the loaded build
 * machine a record cost ~500 ns with them against ~250 ns with the histogram alone), and handler
 * time is a {@link FunctionTimer} over two {@link LongAdder}s (count and total; no maximum),
 * about a tenth of a {@link Timer#record} with its time-window maximum. The histogram gives
 * percentiles, also across nodes, through {@code histogram_quantile}. Events are only those with a
 * registered handler, so the tag's values are bounded by the application's registrations, never
 * by what peers send.
 */
final class LatencyTimers implements MessengerObserver {

    private final MeterRegistry registry;
    private final Tags tags;
    private final Timer ack;
    private final Map<String, HandlerTime[]> handlers = new ConcurrentHashMap<>();

    /** Count and total time of one (event, outcome), read by a {@link FunctionTimer} at scrape. */
    private static final class HandlerTime {
        final LongAdder count = new LongAdder();
        final LongAdder totalNanos = new LongAdder();
    }

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
        HandlerTime[] pair = handlers.get(event);
        if (pair == null) {
            pair = handlers.computeIfAbsent(event, e -> new HandlerTime[] {handlerTime(e, "success"),
                    handlerTime(e, "failure")});
        }
        HandlerTime t = pair[failed ? 1 : 0];
        t.count.increment();
        t.totalNanos.add(nanos);
    }

    private HandlerTime handlerTime(String event, String outcome) {
        HandlerTime t = new HandlerTime();
        FunctionTimer.builder("ha.messaging.handler.time", t, h -> h.count.sum(), h -> h.totalNanos.sum(),
                        TimeUnit.NANOSECONDS)
                .description("time a message handler ran, by event and outcome")
                .tags(tags.and("event", event, "outcome", outcome))
                .register(registry);
        return t;  // held by this map, so the function timer's weak reference stays valid
    }
}
