package io.hacluster.jobs;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.Objects;
import java.util.Optional;

/** {@link JobSchedule#cron}: a Unix cron expression, parsed by cron-utils. */
final class CronSchedule implements JobSchedule {

    private static final CronParser PARSER = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

    private final String expression;
    private final ZoneId zone;
    private final ExecutionTime times;

    CronSchedule(String expression, ZoneId zone) {
        this.expression = Objects.requireNonNull(expression, "expression");
        this.zone = Objects.requireNonNull(zone, "zone");
        try {
            this.times = ExecutionTime.forCron(PARSER.parse(expression).validate());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid cron expression '" + expression + "': " + e.getMessage(), e);
        }
    }

    @Override
    public Instant nextAfter(Instant t) {
        return times.nextExecution(ZonedDateTime.ofInstant(t, zone))
                .map(ZonedDateTime::toInstant)
                .orElseThrow(() -> new IllegalStateException("cron expression '" + expression + "' has no slot after " + t));
    }

    @Override
    public Optional<Instant> previousBefore(Instant t) {
        return times.lastExecution(ZonedDateTime.ofInstant(t, zone)).map(ZonedDateTime::toInstant);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CronSchedule c && c.expression.equals(expression) && c.zone.equals(zone);
    }

    @Override
    public int hashCode() {
        return Objects.hash(expression, zone);
    }

    @Override
    public String toString() {
        return "cron '" + expression + "' in " + zone;
    }
}
