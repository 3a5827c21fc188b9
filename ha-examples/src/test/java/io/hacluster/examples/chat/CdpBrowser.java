package io.hacluster.examples.chat;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's headless Chromium driven through the Chrome DevTools Protocol over a websocket
 * (java.net.http only): navigate, evaluate script, capture a screenshot. Enough for a real
 * browser to load the chat page through nginx and use it.
 */
final class CdpBrowser implements AutoCloseable {

    /** Not the server's bounded mapper: a screenshot arrives as one base64 string of 100 KB and more. */
    private static final com.fasterxml.jackson.databind.ObjectMapper CDP_JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    private static final Pattern LISTENING = Pattern.compile("DevTools listening on (ws://[^\\s]+)");
    private static final Duration CALL = Duration.ofSeconds(60);

    private final Process process;
    private final WebSocket page;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<String> consoleErrors = new ArrayList<>();

    private CdpBrowser(Process process, WebSocket page) {
        this.process = process;
        this.page = page;
    }

    static CdpBrowser launch(Path binary, Path profile) throws Exception {
        Files.createDirectories(profile);
        Path log = profile.resolveSibling("chromium.log");
        Process p = new ProcessBuilder(binary.toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--window-size=1200,800",
                "--user-data-dir=" + profile.toAbsolutePath(), "about:blank")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            String browserWs = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (browserWs == null) {
                Matcher m = LISTENING.matcher(Files.exists(log) ? Files.readString(log, UTF_8) : "");
                if (m.find()) {
                    browserWs = m.group(1);
                } else if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("chromium did not open its DevTools port: " + ChatNodeProcess.tail(log));
                } else {
                    Thread.sleep(50);
                }
            }
            URI devtools = URI.create(browserWs);
            HttpClient http = HttpClient.newHttpClient();
            URI list = URI.create("http://" + devtools.getHost() + ":" + devtools.getPort() + "/json/list");
            String pageWs = null;
            for (JsonNode target : CDP_JSON.readTree(http.send(HttpRequest.newBuilder(list).build(),
                    HttpResponse.BodyHandlers.ofString()).body())) {
                if ("page".equals(target.path("type").asText())) {
                    pageWs = target.path("webSocketDebuggerUrl").asText();
                    break;
                }
            }
            if (pageWs == null) {
                throw new IllegalStateException("chromium lists no page target");
            }
            CdpBrowser[] self = new CdpBrowser[1];
            WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(pageWs), new WebSocket.Listener() {
                private final StringBuilder partial = new StringBuilder();

                @Override
                public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                    partial.append(data);
                    if (last) {
                        String text = partial.toString();
                        partial.setLength(0);
                        self[0].received(text);
                    }
                    socket.request(1);
                    return null;
                }
            }).get(30, TimeUnit.SECONDS);
            self[0] = new CdpBrowser(p, ws);
            self[0].call("Page.enable", Map.of());
            self[0].call("Runtime.enable", Map.of());
            return self[0];
        } catch (Exception e) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw e;
        }
    }

    private void received(String text) {
        try {
            JsonNode message = CDP_JSON.readTree(text);
            if (System.getProperty("cdp.debug") != null) {
                System.out.println("CDP <- " + text.substring(0, Math.min(200, text.length())));
            }
            if (message.has("id")) {
                CompletableFuture<JsonNode> f = pending.remove(message.get("id").asInt());
                if (f != null) {
                    f.complete(message);
                }
            } else if ("Runtime.exceptionThrown".equals(message.path("method").asText())) {
                synchronized (consoleErrors) {
                    consoleErrors.add(message.path("params").path("exceptionDetails").toString());
                }
            }
        } catch (IOException e) {
            // not JSON (or beyond what we read): fail whoever waits rather than let it time out
            pending.values().forEach(f -> f.completeExceptionally(e));
        }
    }

    JsonNode call(String method, Map<String, Object> params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(id, answer);
        ObjectNode message = CDP_JSON.createObjectNode().put("id", id).put("method", method);
        message.set("params", CDP_JSON.valueToTree(params));
        page.sendText(message.toString(), true).get(CALL.toMillis(), TimeUnit.MILLISECONDS);
        JsonNode reply = answer.get(CALL.toMillis(), TimeUnit.MILLISECONDS);
        if (reply.has("error")) {
            throw new IllegalStateException(method + " failed: " + reply.get("error"));
        }
        return reply.path("result");
    }

    void navigate(URI url) throws Exception {
        call("Page.navigate", Map.of("url", url.toString()));
        await("the page loaded", () -> "complete".equals(evaluate("document.readyState").asText()));
    }

    /** Evaluates {@code expression} in the page; returns its value (promises awaited). */
    JsonNode evaluate(String expression) {
        try {
            JsonNode result = call("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true,
                    "awaitPromise", true));
            if (result.has("exceptionDetails")) {
                throw new IllegalStateException("script failed: " + result.get("exceptionDetails"));
            }
            return result.path("result").path("value");
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Waits (bounded) for a condition evaluated against the page. */
    void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the page did not show " + what + " within 60 s; page text: "
                        + evaluate("document.body.innerText").asText() + "; script errors: " + scriptErrors());
            }
            Thread.sleep(100);
        }
    }

    void screenshot(Path file) throws Exception {
        call("Page.bringToFront", Map.of());
        JsonNode shot = call("Page.captureScreenshot", Map.of("format", "png"));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, Base64.getDecoder().decode(shot.path("data").asText()));
    }

    List<String> scriptErrors() {
        synchronized (consoleErrors) {
            return List.copyOf(consoleErrors);
        }
    }

    @Override
    public void close() throws InterruptedException {
        page.abort();
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
