package io.hacluster.gossip.netty;

import io.hacluster.gossip.ConnectOutcome;
import io.netty.channel.ConnectTimeoutException;

import java.net.ConnectException;
import java.util.Locale;

/**
 * Classifies a failed TCP connect. Netty reports a refused connect as a {@link ConnectException}
 * (its {@code AnnotatedConnectException}, or epoll's native one) whose message carries the OS's
 * "Connection refused" (ECONNREFUSED); but its {@link ConnectTimeoutException} is a
 * {@code ConnectException} too, and epoll reports other errors (EHOSTUNREACH, ETIMEDOUT) as plain
 * {@code ConnectException}s as well. So only a connect exception that says "refused" and is not a
 * timeout counts as {@link ConnectOutcome#REFUSED}; everything else is
 * {@link ConnectOutcome#TIMED_OUT}. The check fails safe: a message we do not recognise is never
 * taken as refusal.
 */
public final class ConnectOutcomes {

    private static final int MAX_CAUSES = 8;

    private ConnectOutcomes() {
    }

    /** {@link ConnectOutcome#REFUSED} when {@code failure} (or a cause) is a refused connect, else TIMED_OUT. */
    public static ConnectOutcome classify(Throwable failure) {
        Throwable t = failure;
        for (int i = 0; t != null && i < MAX_CAUSES; i++, t = t.getCause()) {
            if (t instanceof ConnectTimeoutException) {
                return ConnectOutcome.TIMED_OUT;
            }
            if (t instanceof ConnectException && t.getMessage() != null
                    && t.getMessage().toLowerCase(Locale.ROOT).contains("connection refused")) {
                return ConnectOutcome.REFUSED;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return ConnectOutcome.TIMED_OUT;
    }
}
