package io.hacluster.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HealthServerTest {

    private final AtomicBoolean healthy = new AtomicBoolean(true);
    private final HealthServer server = new HealthServer(new InetSocketAddress("127.0.0.1", 0), new HealthSource() {
        @Override
        public boolean healthy() {
            return healthy.get();
        }

        @Override
        public Object clusterStatus() {
            return Map.of("members", List.of("a", "b"));
        }
    }, "ha-test-health");
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void close() {
        server.close();
    }

    private HttpResponse<String> send(String method, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + path))
                .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody()).build();
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void pingFollowsHealth() throws Exception {
        server.start();
        HttpResponse<String> ok = send("GET", HealthServer.PING_PATH);
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo("{\"status\":\"OK\"}");
        assertThat(ok.headers().firstValue("Content-Type")).contains("application/json");

        healthy.set(false);
        HttpResponse<String> down = send("GET", HealthServer.PING_PATH + "?get_server_status=true");
        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(down.body()).contains("UNHEALTHY");
    }

    @Test
    void statusIsJson() throws Exception {
        server.start();
        HttpResponse<String> status = send("GET", HealthServer.STATUS_PATH);
        assertThat(status.statusCode()).isEqualTo(200);
        assertThat(status.body()).isEqualTo("{\"members\":[\"a\",\"b\"]}");
    }

    @Test
    void onlyGetOnKnownPaths() throws Exception {
        server.start();
        HttpResponse<String> post = send("POST", HealthServer.PING_PATH);
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).contains("GET");
        assertThat(send("DELETE", HealthServer.STATUS_PATH).statusCode()).isEqualTo(405);
        assertThat(send("GET", "/api/v4/users").statusCode()).isEqualTo(404);
    }

    private String raw(byte[] request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.address().getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            try {
                out.write(request);
                out.flush();
            } catch (IOException closedEarly) {
                // the server may answer and close before it has read everything
            }
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void endlessLineIsCutOffAndDoesNotHarmTheNextClient() throws Exception {
        server.start();
        byte[] junk = new byte[256 * 1024];
        new java.util.Random(1).nextBytes(junk);
        for (int i = 0; i < junk.length; i++) {
            if (junk[i] == '\n') {
                junk[i] = 'x';
            }
        }
        assertThat(raw(junk)).startsWith("HTTP/1.1 431 ");
        assertThat(send("GET", HealthServer.PING_PATH).statusCode()).isEqualTo(200);
    }

    @Test
    void malformedRequestLineAndTooManyHeadersAreRejected() throws Exception {
        server.start();
        assertThat(raw("HELLO\r\n\r\n".getBytes(StandardCharsets.US_ASCII))).startsWith("HTTP/1.1 400 ");
        StringBuilder many = new StringBuilder("GET /api/v4/system/ping HTTP/1.1\r\n");
        for (int i = 0; i < 500; i++) {
            many.append("X-H").append(i).append(": v\r\n");
        }
        many.append("\r\n");
        assertThat(raw(many.toString().getBytes(StandardCharsets.US_ASCII))).startsWith("HTTP/1.1 431 ");
        // a bare-LF request is still understood
        assertThat(raw("GET /api/v4/system/ping HTTP/1.0\n\n".getBytes(StandardCharsets.US_ASCII)))
                .startsWith("HTTP/1.1 200 ").endsWith("{\"status\":\"OK\"}");
    }

    @Test
    void connectionsBeyondTheLimitAreClosedAndCounted() throws Exception {
        server.start();
        List<Socket> idle = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < HealthServer.MAX_CONNECTIONS; i++) {
                idle.add(new Socket("127.0.0.1", server.address().getPort()));
            }
            // Accepting is asynchronous: wait until the extra connection is turned away.
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> {
                try (Socket extra = new Socket("127.0.0.1", server.address().getPort())) {
                    extra.setSoTimeout(5000);
                    return extra.getInputStream().read() == -1;
                }
            });
            assertThat(server.rejectedConnections()).isPositive();
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(send("GET", HealthServer.PING_PATH).statusCode()).isEqualTo(200));
    }

    @Test
    void closedServerRefusesConnections() throws Exception {
        server.start();
        assertThat(send("GET", HealthServer.PING_PATH).statusCode()).isEqualTo(200);
        server.close();
        server.close();  // idempotent
        assertThatThrownBy(() -> send("GET", HealthServer.PING_PATH)).isInstanceOf(ConnectException.class);
        assertThat(server.requests()).isEqualTo(1);
        assertThatThrownBy(server::start).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void requestsRunOnNamedThreads() throws Exception {
        AtomicBoolean named = new AtomicBoolean();
        HealthServer probe = new HealthServer(new InetSocketAddress("127.0.0.1", 0), new HealthSource() {
            @Override
            public boolean healthy() {
                named.set(Thread.currentThread().getName().equals("ha-probe-health"));
                return true;
            }

            @Override
            public Object clusterStatus() {
                return Map.of();
            }
        }, "ha-probe-health");
        try {
            probe.start();
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + probe.address().getPort()
                    + HealthServer.PING_PATH)).timeout(Duration.ofSeconds(10)).build();
            assertThat(client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)).statusCode())
                    .isEqualTo(200);
            assertThat(named).isTrue();
        } finally {
            probe.close();
        }
    }

    @Test
    void aStalledStatusQueryDoesNotDelayThePingAndJobsAnswersByCase() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<Map<String, String>> asked = new java.util.concurrent.atomic.AtomicReference<>();
        HealthServer slow = new HealthServer(new InetSocketAddress("127.0.0.1", 0), new HealthSource() {
            @Override
            public boolean healthy() {
                return true;
            }

            @Override
            public Object clusterStatus() {
                try {
                    release.await(30, java.util.concurrent.TimeUnit.SECONDS);  // a database that does not answer
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return Map.of();
            }

            @Override
            public Object jobs(Map<String, String> query) {
                asked.set(query);
                if (query.containsKey("bad")) {
                    throw new IllegalArgumentException("unknown query parameter 'bad'");
                }
                return List.of(Map.of("id", "j1"));
            }
        }, "ha-slow-health");
        try {
            slow.start();
            String base = "http://127.0.0.1:" + slow.address().getPort();
            java.util.concurrent.CompletableFuture<HttpResponse<String>> status = client.sendAsync(HttpRequest
                    .newBuilder(URI.create(base + HealthServer.STATUS_PATH)).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> ping = client.send(HttpRequest.newBuilder(URI.create(base + HealthServer.PING_PATH))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ping.statusCode()).isEqualTo(200);
            assertThat(status).isNotDone();  // still waiting for its query, while the probe was answered
            release.countDown();
            assertThat(status.get(30, java.util.concurrent.TimeUnit.SECONDS).statusCode()).isEqualTo(200);

            HttpResponse<String> jobs = client.send(HttpRequest.newBuilder(URI.create(base + HealthServer.JOBS_PATH
                    + "?type=a%2Eb&status=pending,in_progress")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(jobs.statusCode()).isEqualTo(200);
            assertThat(jobs.body()).isEqualTo("[{\"id\":\"j1\"}]");
            assertThat(asked.get()).containsEntry("type", "a.b").containsEntry("status", "pending,in_progress");
            HttpResponse<String> bad = client.send(HttpRequest.newBuilder(URI.create(base + HealthServer.JOBS_PATH
                    + "?bad=1")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(bad.body()).contains("unknown query parameter 'bad'");
        } finally {
            slow.close();
        }
        server.start();  // the default source has no job server
        assertThat(send("GET", HealthServer.JOBS_PATH).statusCode()).isEqualTo(404);
        try (Socket raw = new Socket("127.0.0.1", server.address().getPort())) {  // an escape no client would send
            raw.setSoTimeout(10_000);
            raw.getOutputStream().write(("GET " + HealthServer.JOBS_PATH + "?type=%zz HTTP/1.1\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String answer = new String(raw.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(answer).startsWith("HTTP/1.1 400");
        }
    }
}
