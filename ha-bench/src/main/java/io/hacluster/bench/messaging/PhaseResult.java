package io.hacluster.bench.messaging;

/**
 * One measured phase.
 *
 * @param system      which system
 * @param phase       "peak" (closed loop, window of outstanding broadcasts) or "paced" (open loop)
 * @param broadcasts  broadcasts acknowledged by both targets
 * @param seconds     wall time of the phase
 * @param failures    broadcasts that failed
 * @param p50Micros   send-to-ack latency percentiles, microseconds
 * @param p99Micros   99th percentile
 * @param p999Micros  99.9th percentile
 */
record PhaseResult(String system, String phase, long broadcasts, double seconds, long failures,
                   double p50Micros, double p99Micros, double p999Micros) {

    double rate() {
        return broadcasts / seconds;
    }

    String row() {
        return String.format("| %-24s | %-18s | %10.0f | %10.0f | %9.0f | %9.0f | %9.0f | %8d |",
                system, phase, rate(), rate() * 2, p50Micros, p99Micros, p999Micros, failures);
    }
}
