package io.hacluster.testkit.cluster;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Polls a condition until it holds or a bound passes, then fails with a message built at that
 * moment (so it shows the state at the deadline). A condition that throws counts as not holding
 * (a node between states); the last such exception becomes the failure's cause.
 */
final class BoundedWait {

    private BoundedWait() {
    }

    static void until(BooleanSupplier condition, Duration timeout, Duration poll, Supplier<String> failure) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException lastError = null;
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
                lastError = null;
            } catch (RuntimeException e) {
                lastError = e;
            }
            if (System.nanoTime() - deadline >= 0) {
                break;
            }
            try {
                Thread.sleep(poll.toMillis());  // the polling interval of a condition, not a stand-in for one
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting", e);
            }
        }
        AssertionError error = new AssertionError(failure.get());
        if (lastError != null) {
            error.initCause(lastError);
        }
        throw error;
    }
}
