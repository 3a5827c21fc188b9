package io.hacluster.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS seam: messengers given SslContexts talk over TLS (certificate for 127.0.0.1 made with
 * the JDK's keytool, so no extra dependency), and a plain-TCP node cannot join them.
 */
class TlsTest {

    private static final char[] PASSWORD = "test-only".toCharArray();

    @TempDir
    static Path dir;
    private static SslContext server;
    private static SslContext client;

    @BeforeAll
    static void makeCertificate() throws Exception {
        Path ks = dir.resolve("node.p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-dname", "CN=ha-cluster-test", "-ext", "SAN=ip:127.0.0.1", "-storetype", "PKCS12",
                "-keystore", ks.toString(), "-storepass", new String(PASSWORD))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            store.load(in, PASSWORD);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, PASSWORD);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        server = SslContextBuilder.forServer(kmf).build();
        client = SslContextBuilder.forClient().trustManager(tmf).build();
    }

    @Test
    void requestAndReplyTravelOverTls() throws Exception {
        try (Nodes nodes = Nodes.start(2, b -> b.tls(server, client))) {
            nodes.get(1).registerHandler("echo", in -> in.reply(in.data()));
            byte[] r = nodes.get(0).request("node-b", "echo", "secret".getBytes(StandardCharsets.UTF_8),
                    Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS);
            assertThat(new String(r, StandardCharsets.UTF_8)).isEqualTo("secret");
        }
    }

    @Test
    void aPlainTcpNodeCannotConnectToATlsNode() throws Exception {
        Messenger plain = new Messenger(Nodes.config("node-a").build());
        Messenger secure = new Messenger(Nodes.config("node-b").tls(server, client).build());
        try (plain; secure) {
            plain.start();
            secure.start();
            plain.peerAlive("node-b", secure.localAddress());
            secure.peerAlive("node-a", plain.localAddress());
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(10))
                    .until(() -> plain.connectedPeers().isEmpty() && secure.connectedPeers().isEmpty());
            assertThatThrownBy(() -> plain.request("node-b", "echo", null, Duration.ofMillis(500)).get(10, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(java.util.concurrent.TimeoutException.class);
        }
    }
}
