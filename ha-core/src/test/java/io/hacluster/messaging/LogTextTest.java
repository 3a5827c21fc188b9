package io.hacluster.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Text from the network cannot start a new log line or steer a terminal. */
class LogTextTest {

    @Test
    void controlCharactersAreEscapedAndLengthIsBounded() {
        String forged = "zzzz\n19:00:00.000 [main] INFO io.hacluster.ClusterNode - FORGED\u001b[31m\r\u2028";
        String safe = LogText.escape(forged);
        assertThat(safe).doesNotContain("\n", "\r", "\u001b", "\u2028")
                .contains("\\u000a19:00:00.000", "\\u001b[31m", "\\u000d", "\\u2028");
        assertThat(LogText.escape("plain-id")).isEqualTo("plain-id");
        assertThat(LogText.escape(null)).isEqualTo("null");
        String huge = "x".repeat(10_000);
        assertThat(LogText.escape(huge)).hasSizeLessThan(300).endsWith("...(10000 chars)");
    }
}
