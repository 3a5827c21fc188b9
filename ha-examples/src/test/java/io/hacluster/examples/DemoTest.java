package io.hacluster.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Runs the README's demo in-process and checks that what it prints is what happened. */
class DemoTest {

    @Test
    void theScenarioFormsAClusterMessagesRoutesLosesANodeAndLeavesNothingRunning() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        AtomicReference<String> healthUrl = new AtomicReference<>();
        DemoResult result;
        try (PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8)) {
            result = new DemoScenario(out, healthUrl::set).run();
        }
        String story = printed.toString(StandardCharsets.UTF_8);

        assertThat(result.memberCount()).isEqualTo(3);
        assertThat(result.greenCount()).isEqualTo(3);
        assertThat(result.broadcastReceivers()).hasSize(2).doesNotHaveDuplicates();
        assertThat(result.gatherReplies()).isEqualTo(3);
        assertThat(result.totalConnections()).isEqualTo(10 + 21 + 32);
        assertThat(result.readYourWritesSeen()).isTrue();
        assertThat(result.tokenReadServer()).isIn("primary", "replica1", "replica2");
        assertThat(result.tokenReadOnReplica()).isEqualTo(result.tokenReadServer().startsWith("replica"));
        assertThat(result.nodeLossObserved()).isTrue();
        assertThat(result.pingStatus()).isEqualTo(200);
        assertThat(result.pingAfterShutdownRefused()).isTrue();
        assertThat(result.postgresStopped()).isTrue();
        assertThat(result.threadsLeft()).isEmpty();
        assertThat(healthUrl.get()).startsWith("http://127.0.0.1:");

        // The story is printed step by step and never shows a DSN password.
        assertThat(story).contains("== 1/8", "== 8/8", "== -- shutdown", "GET " + healthUrl.get()
                + "/api/v4/system/ping -> 200");
        assertThat(story).contains("postgres://mmuser:****@127.0.0.1:");
        assertThat(story).doesNotContainPattern("postgres://mmuser:(?!\\*\\*\\*\\*@)");
    }
}
