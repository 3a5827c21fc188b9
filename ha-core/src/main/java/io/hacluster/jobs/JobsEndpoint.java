package io.hacluster.jobs;

import java.sql.SQLException;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.time.Instant;

/**
 * {@code GET /api/v4/jobs}: the cluster's jobs as a JSON array in Mattermost's job shape
 * ({@code id, type, priority, create_at, start_at, last_activity_at, status, progress, data},
 * times in Unix milliseconds), with this library's additions ({@code attempts, max_attempts,
 * worker_id, fencing_token, slot, run_after, last_error}).
 *
 * <p>Query parameters: {@code type} (one type), {@code status} (comma-separated status names,
 * e.g. {@code pending,in_progress}), {@code limit} (1 to {@value JobServer#MAX_QUERY}, default
 * {@value #DEFAULT_LIMIT}). Anything else is refused, so a typo does not silently list everything.
 */
public final class JobsEndpoint {

    static final int DEFAULT_LIMIT = 100;
    private static final Set<String> PARAMETERS = Set.of("type", "status", "limit");

    private JobsEndpoint() {
    }

    /**
     * The endpoint's body for {@code query}.
     *
     * @throws IllegalArgumentException for an unknown parameter or a bad value
     */
    public static List<Map<String, Object>> answer(JobServer server, Map<String, String> query) throws SQLException {
        for (String name : query.keySet()) {
            if (!PARAMETERS.contains(name)) {
                throw new IllegalArgumentException("unknown query parameter '" + printable(name)
                        + "'; known: type, status, limit");
            }
        }
        String type = query.getOrDefault("type", "");
        Set<JobStatus> statuses = EnumSet.noneOf(JobStatus.class);
        for (String s : query.getOrDefault("status", "").split(",")) {
            if (s.isBlank()) {
                continue;
            }
            try {
                statuses.add(JobStatus.fromDb(s.trim().toLowerCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown job status '" + printable(s) + "'");
            }
        }
        int limit = DEFAULT_LIMIT;
        String given = query.get("limit");
        if (given != null) {
            try {
                limit = Integer.parseInt(given);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("limit must be a number, got '" + printable(given) + "'");
            }
        }
        return server.jobs(type.isEmpty() ? null : type, statuses, limit).stream().map(JobsEndpoint::json).toList();
    }

    static Map<String, Object> json(Job job) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", job.id());
        out.put("type", job.type());
        out.put("priority", job.priority());
        out.put("create_at", millis(job.createdAt()));
        out.put("start_at", job.startedAt().map(JobsEndpoint::millis).orElse(0L));
        out.put("last_activity_at", millis(job.lastActivityAt()));
        out.put("status", job.status().dbName());
        out.put("progress", job.progress());
        out.put("data", job.data());
        out.put("attempts", job.attempts());
        out.put("max_attempts", job.maxAttempts());
        out.put("worker_id", job.workerId().orElse(null));
        out.put("fencing_token", job.fencingToken());
        out.put("slot", job.slot().map(JobsEndpoint::millis).orElse(null));
        out.put("run_after", millis(job.runAfter()));
        out.put("last_error", job.lastError().orElse(null));
        return out;
    }

    private static long millis(Instant t) {
        return t.toEpochMilli();
    }

    private static String printable(String s) {
        String cut = s.length() > 64 ? s.substring(0, 64) + "..." : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
