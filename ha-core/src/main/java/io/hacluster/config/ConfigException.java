package io.hacluster.config;

import java.util.List;

/**
 * A configuration could not be read or is not valid. The message lists every problem found, one a
 * line; each names the setting ({@code Section.Field}, or the environment variable) and quotes the
 * bad value with any DSN password masked.
 */
public final class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    /** One exception for all {@code problems} (at least one), so an operator can fix them in one go. */
    public ConfigException(String summary, List<String> problems) {
        super(format(summary, problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    /** Each problem, as it appears in the message. */
    public List<String> problems() {
        return problems;
    }

    private static String format(String summary, List<String> problems) {
        StringBuilder message = new StringBuilder(summary).append(" (").append(problems.size())
                .append(problems.size() == 1 ? " problem):" : " problems):");
        for (String problem : problems) {
            message.append("\n  - ").append(problem);
        }
        return message.toString();
    }
}
