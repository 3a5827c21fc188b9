package io.hacluster.examples.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hacluster.config.HaConfig;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The chat server's input handling that needs no cluster: JSON, sessions, tokens, settings, nginx config. */
class ChatInputTest {

    @Test
    void requestBodiesMustBeBoundedJsonObjectsWithTypedFields() throws Exception {
        assertThatThrownBy(() -> Json.object("{".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(ApiException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> Json.object("\"x\"".getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("JSON object");
        String deep = "{\"a\":".repeat(40) + "1" + "}".repeat(40);
        assertThatThrownBy(() -> Json.object(deep.getBytes(StandardCharsets.UTF_8))).isInstanceOf(ApiException.class);
        var body = Json.object("{\"channel_id\":12,\"message\":\"hi\",\"neg\":-3,\"big\":1e3}".getBytes(StandardCharsets.UTF_8));
        assertThat(Json.id(body, "channel_id")).isEqualTo(12);
        assertThatThrownBy(() -> Json.id(body, "neg")).hasMessageContaining("positive");
        assertThatThrownBy(() -> Json.id(body, "big")).hasMessageContaining("positive");
        assertThatThrownBy(() -> Json.id(body, "message")).hasMessageContaining("'message' must be a positive integer id");
        assertThat(Json.text(body, "message", 10)).isEqualTo("hi");
        assertThatThrownBy(() -> Json.text(body, "message", 1)).hasMessageContaining("longer than 1");
        assertThatThrownBy(() -> Json.text(body, "missing", 10)).hasMessageContaining("'missing' must be a string");
    }

    @Test
    void sessionsAndTokensComeFromHeadersOrCookiesAndBadOnesAre400() throws Exception {
        var request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        assertThat(Session.userId(request)).isZero();
        assertThat(Session.token(request)).isNull();
        request.headers().set("Cookie", "HACHATUSERID=42; HACHATTOKEN=0/3000148");
        assertThat(Session.userId(request)).isEqualTo(42);
        assertThat(Session.token(request).asString()).isEqualTo("0/3000148");
        // the later of header and cookie wins
        request.headers().set(Session.TOKEN_HEADER, "0/4000000");
        assertThat(Session.token(request).asString()).isEqualTo("0/4000000");
        request.headers().set(Session.TOKEN_HEADER, "0/1");
        assertThat(Session.token(request).asString()).isEqualTo("0/3000148");
        request.headers().set(Session.TOKEN_HEADER, "not-an-lsn");
        assertThatThrownBy(() -> Session.token(request)).isInstanceOf(ApiException.class).hasMessageContaining("LSN");
        request.headers().set(Session.USER_HEADER, "-1");
        assertThatThrownBy(() -> Session.userId(request)).hasMessageContaining("positive");
        assertThat(Session.tokenCookie(io.hacluster.db.ConsistencyToken.parse("1/2"))).containsIgnoringCase("HttpOnly")
                .contains("SameSite=Strict");
    }

    @Test
    void settingsComeFromTheMattermostShapedFile() {
        HaConfig config = HaConfig.parse("""
                {"ServiceSettings": {"ListenAddress": "127.0.0.1:9065"},
                 "DataRetentionSettings": {"EnableMessageDeletion": true, "MessageRetentionHours": 2,
                                           "DeletionJobIntervalSeconds": 30}}""", Map.of());
        ChatSettings s = ChatSettings.from(config);
        assertThat(s.listenHost()).isEqualTo("127.0.0.1");
        assertThat(s.listenPort()).isEqualTo(9065);
        assertThat(s.messageDeletion()).isTrue();
        assertThat(s.retention()).isEqualTo(Duration.ofHours(2));
        assertThat(s.retentionEvery()).isEqualTo(Duration.ofSeconds(30));
        ChatSettings defaults = ChatSettings.from(HaConfig.parse("{}", Map.of()));
        assertThat(defaults.listenHost()).isEmpty();
        assertThat(defaults.listenPort()).isEqualTo(8065);
        assertThat(defaults.messageDeletion()).isFalse();
        assertThatThrownBy(() -> ChatSettings.from(HaConfig.parse("{\"ServiceSettings\": {\"ListenAddress\": \"8065\"}}",
                Map.of()))).hasMessageContaining("host:port");
    }

    @Test
    void theNginxConfigurationHasTheWebsocketLocationAndEveryUpstream() {
        String conf = NginxFront.render(Path.of("/tmp/x"), "127.0.0.1:8080",
                List.of(new InetSocketAddress("127.0.0.1", 8065), new InetSocketAddress("127.0.0.1", 8066)));
        assertThat(conf).doesNotContain("@PREFIX@", "@LISTEN@", "@UPSTREAMS@")
                .contains("listen 127.0.0.1:8080;", "server 127.0.0.1:8065 max_fails=1", "server 127.0.0.1:8066 max_fails=1",
                        "location ~ /api/v[0-9]+/(users/)?websocket$", "proxy_set_header Upgrade $http_upgrade;",
                        "proxy_set_header Connection \"upgrade\";", "proxy_pass http://backend;", "/tmp/x/tmp/proxy");
    }
}
