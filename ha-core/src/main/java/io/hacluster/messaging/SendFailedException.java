package io.hacluster.messaging;

import java.util.Map;

/**
 * A broadcast failed for at least one of its targets. {@link #result()} tells, per target, who
 * acknowledged, who merely got it queued and who failed with which cause; the targets that did
 * not fail may have delivered.
 */
public class SendFailedException extends MessagingException {

    private final SendResult result;

    public SendFailedException(String event, SendResult result) {
        super("message '" + event + "' failed for " + result.failures().keySet() + " of "
                + result.targets().size() + " targets: " + describe(result.failures()));
        this.result = result;
        result.failures().values().forEach(this::addSuppressed);
    }

    /** Per-target outcome of the send. */
    public SendResult result() {
        return result;
    }

    /** Node id to the cause of its failure. */
    public Map<String, Throwable> failures() {
        return result.failures();
    }

    private static String describe(Map<String, Throwable> failures) {
        StringBuilder b = new StringBuilder();
        failures.forEach((id, cause) -> {
            if (b.length() > 0) {
                b.append("; ");
            }
            b.append(id).append(": ").append(cause.getClass().getSimpleName()).append(' ').append(cause.getMessage());
        });
        return b.toString();
    }
}
