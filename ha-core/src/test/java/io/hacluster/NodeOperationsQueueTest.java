package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hacluster.config.ClusterSettings;
import io.hacluster.config.HaConfig;
import io.hacluster.messaging.IncomingMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A peer cannot pile up operations: the handler only queues, at most {@value NodeOperations#MAX_QUEUED}
 * wait behind the running one, and more are refused at once (the requester gets the error); a
 * plain message on a reserved event is ignored. The incoming messages are stand-ins for what the
 * messenger hands a handler (the cluster path itself is tested in ClusterNodeReloadTest).
 */
class NodeOperationsQueueTest {

    @TempDir
    Path dir;

    /** What a handler is given for a request or a plain message, recording the reply. */
    private static final class Incoming implements IncomingMessage {
        final boolean request;
        final List<byte[]> replies = new CopyOnWriteArrayList<>();

        Incoming(boolean request) {
            this.request = request;
        }

        @Override
        public String senderId() {
            return "peer";
        }

        @Override
        public ClusterMessage message() {
            return ClusterMessage.reliable(NodeOperations.RELOAD_EVENT, new byte[0]);
        }

        @Override
        public boolean isRequest() {
            return request;
        }

        @Override
        public void reply(byte[] data) {
            replies.add(data);
        }
    }

    @Test
    void atMostEightWaitBehindTheRunningOneAndPlainMessagesAreIgnored() throws Exception {
        Path file = dir.resolve("config.json");
        HaConfig config = HaConfig.builder().clusterSettings(ClusterSettings.builder().enable(true).clusterName("c")
                .build()).build();
        Files.writeString(file, config.toJson());
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ConfigReloader reloader = new ConfigReloader("n1", config, file, Map.of(), null, () -> {
            running.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return config.hash();
        }, hash -> { });
        try (NodeOperations ops = new NodeOperations("n1", reloader, null)) {
            java.util.concurrent.Callable<Object> reload = reloader::reloadFile;

            Incoming first = new Incoming(true);
            ops.queue(first, reload);
            assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();
            List<Incoming> waiting = new java.util.ArrayList<>();
            for (int i = 0; i < NodeOperations.MAX_QUEUED; i++) {
                Incoming in = new Incoming(true);
                ops.queue(in, reload);
                waiting.add(in);
            }
            Incoming tooMany = new Incoming(true);
            assertThatThrownBy(() -> ops.queue(tooMany, reload)).isInstanceOf(IllegalStateException.class).hasMessageContaining("busy");
            Incoming plain = new Incoming(false);
            ops.queue(plain, reload);

            release.countDown();
            await().atMost(Duration.ofSeconds(30)).until(() -> first.replies.size() == 1
                    && waiting.stream().allMatch(in -> in.replies.size() == 1));
            assertThat(new String(first.replies.get(0), java.nio.charset.StandardCharsets.UTF_8))
                    .contains("\"nodeId\":\"n1\"").contains("\"changes\":[]");
            assertThat(tooMany.replies).isEmpty();
            assertThat(plain.replies).isEmpty();
        }
    }
}
