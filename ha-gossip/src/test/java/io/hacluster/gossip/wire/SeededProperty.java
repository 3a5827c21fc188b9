package io.hacluster.gossip.wire;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A small seeded property runner for plain JUnit 5: generates {@code cases} byte inputs from a
 * reproducible seed and runs a check on each, preemptively bounded in time and measured in bytes
 * allocated. The first failing input is shrunk (bounded) and reported with its seed and its hex.
 *
 * <p>Seeds: every case gets its own {@link Random}, seeded from the base seed, the property name
 * and the case index, so a case does not depend on what earlier cases drew. The base seed is
 * fixed ({@link #DEFAULT_BASE_SEED}), so every build runs the same inputs; the system property
 * {@value #SEED_PROPERTY} (decimal or {@code 0x} hex) replaces it to explore other inputs or to
 * replay a reported failure.
 *
 * <p>Each check runs on one worker thread per property: the test thread waits for it at most
 * {@code hangBound}, then fails with the worker's stack, instead of hanging the build. The bytes
 * the worker allocates during one check (HotSpot's per-thread counter) must stay below
 * {@code allocationBound}: a decoder that trusted a hostile length would allocate far more.
 */
final class SeededProperty {

    /** System property overriding the base seed. */
    static final String SEED_PROPERTY = "ha.test.seed";
    /** The base seed when {@value #SEED_PROPERTY} is unset. */
    static final long DEFAULT_BASE_SEED = 0x6a09_e667_f3bc_c908L;

    /** Check runs spent shrinking one failure, at most. */
    private static final int MAX_SHRINK_RUNS = 300;
    /** Inputs longer than this are reported by length and seed, their hex cut. */
    private static final int MAX_REPORTED_BYTES = 64 * 1024;

    /** Draws one input. */
    @FunctionalInterface
    interface Generator {
        byte[] next(Random random);
    }

    /** Checks one input; throwing anything is a failure. */
    @FunctionalInterface
    interface Check {
        void accept(byte[] input) throws Exception;
    }

    private final String name;
    private final int cases;
    private final Duration hangBound;
    private final long allocationBound;
    private final boolean shrinks;

    /**
     * @param name            the property's name; it selects the case seeds, so renaming a
     *                        property changes its inputs
     * @param cases           inputs to generate and check
     * @param hangBound       longest one check may run before the property fails as hung
     * @param allocationBound bytes one check may allocate on its thread
     */
    SeededProperty(String name, int cases, Duration hangBound, long allocationBound) {
        this(name, cases, hangBound, allocationBound, true);
    }

    private SeededProperty(String name, int cases, Duration hangBound, long allocationBound, boolean shrinks) {
        this.name = name;
        this.cases = cases;
        this.hangBound = hangBound;
        this.allocationBound = allocationBound;
        this.shrinks = shrinks;
    }

    /**
     * The same property, reporting a failing input as generated. For checks that rely on the
     * generator's structure (a valid message, a header announcing a huge length): cutting bytes
     * out of such an input makes another input that fails for another reason.
     */
    SeededProperty withoutShrinking() {
        return new SeededProperty(name, cases, hangBound, allocationBound, false);
    }

    /** The base seed: {@value #SEED_PROPERTY} when set, else {@link #DEFAULT_BASE_SEED}. */
    static long baseSeed() {
        String value = System.getProperty(SEED_PROPERTY);
        if (value == null || value.isBlank()) {
            return DEFAULT_BASE_SEED;
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        try {
            return v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(SEED_PROPERTY + " must be a decimal or 0x-hex 64-bit number, not \""
                    + value + "\"", e);
        }
    }

    /** The seed of one case: independent of the other cases' draws. */
    static long caseSeed(long base, String property, int index) {
        return mix(mix(base ^ mix(property.hashCode())) + index * 0x9e37_79b9_7f4a_7c15L);
    }

    /** SplitMix64's finalizer: spreads nearby inputs over the whole 64-bit range. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58_476d_1ce4_e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d0_49bb_1331_11ebL;
        return z ^ (z >>> 31);
    }

    /**
     * Runs the property.
     *
     * @throws AssertionError naming the seed, the case and the (shrunk) failing input
     */
    void check(Generator generator, Check check) {
        long base = baseSeed();
        AtomicReference<Thread> workerThread = new AtomicReference<>();
        ExecutorService worker = Executors.newSingleThreadExecutor(task -> {
            Thread t = new Thread(task, "ha-test-property-" + name);
            t.setDaemon(true);
            workerThread.set(t);
            return t;
        });
        try {
            for (int index = 0; index < cases; index++) {
                long seed = caseSeed(base, name, index);
                byte[] input = generator.next(new Random(seed));
                Run run = runOnce(worker, workerThread, check, input);
                if (run.failure() != null) {
                    throw report(base, seed, index, input, run,
                            run.hung() || !shrinks ? null : shrink(worker, workerThread, check, input, run));
                }
            }
        } finally {
            worker.shutdownNow();
        }
    }

    /** The result of one check: bytes allocated, or what went wrong. */
    private record Run(long allocated, Throwable failure, boolean hung) {
    }

    private Run runOnce(ExecutorService worker, AtomicReference<Thread> workerThread, Check check,
                        byte[] input) {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        if (!threads.isThreadAllocatedMemorySupported() || !threads.isThreadAllocatedMemoryEnabled()) {
            throw new IllegalStateException("this JVM does not count per-thread allocation;"
                    + " the allocation bound cannot be checked");
        }
        Future<Long> future = worker.submit(() -> {
            long before = threads.getCurrentThreadAllocatedBytes();
            check.accept(input);
            return threads.getCurrentThreadAllocatedBytes() - before;
        });
        try {
            long allocated = future.get(hangBound.toMillis(), TimeUnit.MILLISECONDS);
            if (allocated >= allocationBound) {
                return new Run(allocated, new AssertionError("allocated " + allocated
                        + " bytes for one input, bound " + allocationBound), false);
            }
            return new Run(allocated, null, false);
        } catch (ExecutionException e) {
            return new Run(0, e.getCause(), false);
        } catch (TimeoutException e) {
            Thread stuck = workerThread.get();
            AssertionError hang = new AssertionError("no result within " + hangBound
                    + "; the worker thread was stuck here");
            if (stuck != null) {
                hang.setStackTrace(stuck.getStackTrace());
            }
            future.cancel(true);
            return new Run(0, hang, true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking " + name, e);
        }
    }

    /**
     * Removes ever smaller chunks of the input while the check still fails the same way (same
     * exception class, thrown from the same line of our code). Stops after
     * {@link #MAX_SHRINK_RUNS} runs or at a hang, which would leave the single worker busy.
     */
    private byte[] shrink(ExecutorService worker, AtomicReference<Thread> workerThread, Check check,
                          byte[] input, Run original) {
        String site = site(original.failure());
        byte[] best = input;
        int runs = 0;
        for (int chunk = Math.max(1, best.length / 2); chunk >= 1 && runs < MAX_SHRINK_RUNS; chunk /= 2) {
            int at = 0;
            while (at < best.length && runs < MAX_SHRINK_RUNS) {
                int cut = Math.min(chunk, best.length - at);
                byte[] candidate = new byte[best.length - cut];
                System.arraycopy(best, 0, candidate, 0, at);
                System.arraycopy(best, at + cut, candidate, at, best.length - at - cut);
                Run run = runOnce(worker, workerThread, check, candidate);
                runs++;
                if (run.hung()) {
                    return best;
                }
                if (run.failure() != null && site(run.failure()).equals(site)) {
                    best = candidate;
                } else {
                    at += cut;
                }
            }
        }
        return best;
    }

    /** The exception class and the first frame in this project's code that threw it, if known. */
    private static String site(Throwable failure) {
        for (StackTraceElement frame : failure.getStackTrace()) {
            if (frame.getClassName().startsWith("io.hacluster.")) {
                return failure.getClass().getName() + " at " + frame;
            }
        }
        return failure.getClass().getName();
    }

    private AssertionError report(long base, long seed, int index, byte[] input, Run run, byte[] shrunk) {
        StringBuilder s = new StringBuilder()
                .append("property '").append(name).append("' failed at case ").append(index)
                .append(" of ").append(cases).append('\n')
                .append("reproduce with -D").append(SEED_PROPERTY).append(String.format("=0x%016x", base))
                .append(String.format(" (case seed 0x%016x)", seed)).append('\n')
                .append("failure: ").append(run.failure()).append('\n')
                .append("input: ").append(describe(input));
        if (shrunk != null && shrunk.length < input.length) {
            s.append("\nshrunk input, failing the same way: ").append(describe(shrunk));
        }
        return new AssertionError(s.toString(), run.failure());
    }

    private static String describe(byte[] bytes) {
        if (bytes.length > MAX_REPORTED_BYTES) {
            return bytes.length + " bytes, first " + MAX_REPORTED_BYTES + ": "
                    + Hex.hex(Arrays.copyOf(bytes, MAX_REPORTED_BYTES)) + " ...";
        }
        return bytes.length + " bytes: " + Hex.hex(bytes);
    }
}
