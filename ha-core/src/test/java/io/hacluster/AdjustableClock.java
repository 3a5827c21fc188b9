package io.hacluster;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** The system clock plus an offset that a test may change while the node runs (a clock stepped by an operator or NTP). */
final class AdjustableClock extends Clock {

    private volatile Duration offset;

    AdjustableClock(Duration offset) {
        this.offset = offset;
    }

    void setOffset(Duration offset) {
        this.offset = offset;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("UTC only");
    }

    @Override
    public Instant instant() {
        return Clock.systemUTC().instant().plus(offset);
    }

    @Override
    public long millis() {
        return instant().toEpochMilli();
    }
}
