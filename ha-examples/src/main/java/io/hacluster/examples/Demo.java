package io.hacluster.examples;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Command-line launcher of {@link DemoScenario}: {@code mvn -B -q -pl ha-examples exec:java}.
 *
 * <p>Without options the scenario runs to the end and the process exits normally. With
 * {@code --stay} ({@code -Dexec.args=--stay}) the surviving nodes and PostgreSQL keep running
 * after the last step, with the health URL printed, until Enter or Ctrl-C, which then shut
 * everything down.
 */
public final class Demo {

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        List<String> options = List.of(args);
        for (String option : options) {
            if (!option.equals("--stay")) {
                System.err.println("unknown option " + option + "; usage: Demo [--stay]");
                System.exit(2);
            }
        }
        PrintStream out = System.out;
        Consumer<String> beforeShutdown = options.contains("--stay") ? stayUntilStopped(out) : healthUrl -> { };
        try {
            new DemoScenario(out, beforeShutdown).run();
        } catch (Exception e) {
            out.println("DEMO FAILED: " + e);
            throw e;
        }
    }

    /**
     * Blocks the scenario until Enter or Ctrl-C. Enter is the clean way: the scenario closes the
     * nodes, then PostgreSQL. On Ctrl-C the testkit's own exit hook stops PostgreSQL at the same
     * moment, so the nodes may log that they could not delete their discovery rows (bounded by
     * the pool's 10 s connection timeout); the hook waits for the scenario's shutdown, bounded.
     */
    private static Consumer<String> stayUntilStopped(PrintStream out) {
        CountDownLatch stop = new CountDownLatch(1);
        Thread scenarioThread = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            try {
                scenarioThread.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "ha-demo-shutdown"));
        return healthUrl -> {
            Thread stdin = new Thread(() -> {
                try {
                    // A line stops the demo; end of input (no terminal) leaves Ctrl-C as the way out.
                    if (new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine() != null) {
                        stop.countDown();
                    }
                } catch (IOException e) {
                    // no usable stdin: Ctrl-C remains
                }
            }, "ha-demo-stdin");
            stdin.setDaemon(true);
            stdin.start();
            out.println();
            out.println("--stay: node1 and node2 keep running. Try:");
            out.println("  curl -s " + healthUrl + "/api/v4/system/ping");
            out.println("  curl -s " + healthUrl + "/api/v4/cluster/status");
            out.println("Press Enter (or Ctrl-C) to shut down.");
            out.flush();
            try {
                stop.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
    }
}
