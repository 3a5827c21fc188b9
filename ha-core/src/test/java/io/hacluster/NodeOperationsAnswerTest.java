package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.hacluster.messaging.NodeReply;
import io.hacluster.messaging.PeerUnavailableException;
import io.hacluster.messaging.RemoteHandlerException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** Answers to a cluster-wide operation are read as hostile input: each bad one is that node's failure. */
class NodeOperationsAnswerTest {

    private static final Duration DEADLINE = Duration.ofSeconds(3);

    private static NodeAnswer<ConfigReloadResult> decode(String id, byte[] data) {
        return NodeOperations.decode(id, new NodeReply(id, data, null), ConfigReloadResult.class,
                ConfigReloadResult::nodeId, DEADLINE);
    }

    private static NodeAnswer<ConfigReloadResult> decode(String id, String json) {
        return decode(id, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aWellFormedAnswerIsRead() {
        NodeAnswer<ConfigReloadResult> a = decode("n1", """
                {"result": {"nodeId": "n1", "configHashBefore": "a", "configHashAfter": "b", "futureField": 1,
                 "changes": [{"setting": "SqlSettings.DataSource", "before": "x", "after": "y", "status": "APPLIED"}]}}""");
        assertThat(a.answered()).isTrue();
        assertThat(a.result().applied()).containsExactly("SqlSettings.DataSource");
        assertThat(a.result().succeeded()).isTrue();
    }

    @Test
    void badAnswersBecomeFailures() {
        assertThat(decode("n1", "{\"failure\": \"node n1 was built without a configuration file\"}").failure())
                .isEqualTo("failed there: node n1 was built without a configuration file");
        assertThat(decode("n1", "not json").failure()).contains("cannot be read");
        assertThat(decode("n1", "[1, 2]").failure()).contains("not a JSON object");
        assertThat(decode("n1", "{}").failure()).contains("no result");
        assertThat(decode("n1", "{\"result\": {\"nodeId\": \"n2\"}}").failure()).contains("another node");
        assertThat(decode("n1", "{\"result\": {\"configHashBefore\": \"a\"}}").failure()).contains("cannot be read");
        assertThat(decode("n1", "{\"result\": {\"nodeId\": \"n1\", \"changes\": [{\"setting\": \"x\", \"status\": \"BOGUS\"}]}}")
                .failure()).contains("cannot be read");
        byte[] huge = new byte[NodeOperations.MAX_ANSWER_BYTES + 1];
        assertThat(decode("n1", huge).failure()).contains("at most " + NodeOperations.MAX_ANSWER_BYTES);
        String longFailure = "{\"failure\": \"" + "x".repeat(10_000) + "\"}";
        assertThat(decode("n1", longFailure).failure().length()).isLessThan(2_200);
    }

    @Test
    void transportFailuresSayWhatHappened() {
        assertThat(NodeOperations.decode("n1", new NodeReply("n1", null, new TimeoutException("t")),
                ConfigReloadResult.class, ConfigReloadResult::nodeId, DEADLINE).failure())
                .isEqualTo("no answer within 3000 ms");
        assertThat(NodeOperations.decode("n1", new NodeReply("n1", null, new RemoteHandlerException("no handler for 'x'")),
                ConfigReloadResult.class, ConfigReloadResult::nodeId, DEADLINE).failure())
                .isEqualTo("failed there: no handler for 'x'");
        assertThat(NodeOperations.decode("n1", new NodeReply("n1", null, new PeerUnavailableException("n1", "n1 left")),
                ConfigReloadResult.class, ConfigReloadResult::nodeId, DEADLINE).failure())
                .isEqualTo("unavailable: n1 left");
    }
}
