package io.hacluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.hacluster.config.ClusterSettings;
import io.hacluster.messaging.StreamKeys;
import io.hacluster.messaging.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The StreamingPort's security as configured through ClusterSettings: mutual TLS from PEM files on
 * one node and from key stores on the other, messages and requests flowing over it; a wrong store
 * password failing start with the file named and the password nowhere; passwords masked in the
 * settings' toString; the keyed HELLO through the builder.
 */
class ClusterNodeStreamSecurityTest {

    private static final String SECRET = "not-the-password-7f3a";

    @TempDir
    static Path dir;
    private static TestCertificates ca;
    private static TestCertificates.Node first;
    private static TestCertificates.Node second;

    private final List<ClusterNode> nodes = new ArrayList<>();

    @BeforeAll
    static void certificates() throws Exception {
        ca = TestCertificates.ca(dir, "cluster");
        first = ca.node("host-1", "127.0.0.1");
        second = ca.node("host-2", "127.0.0.1");
    }

    @AfterEach
    void close() {
        nodes.forEach(ClusterNode::close);
    }

    private ClusterNode start(ClusterSettings settings, StreamKeys keys) {
        ClusterNode node = ClusterNode.builder().clusterSettings(settings).streamKeys(keys)
                .joinTimeout(Duration.ofSeconds(5)).build();
        nodes.add(node);
        node.start();
        return node;
    }

    private static ClusterSettings.Builder pem(ClusterSettings.Builder b, TestCertificates.Node n) {
        return b.streamTlsEnabled(true).streamTlsCertFile(n.certChainPem().toString())
                .streamTlsKeyFile(n.keyPem().toString()).streamTlsCaFile(ca.caPem.toString());
    }

    private static ClusterSettings.Builder stores(ClusterSettings.Builder b, TestCertificates.Node n, String password) {
        return b.streamTlsEnabled(true).streamTlsKeyStoreFile(n.keyStore().toString())
                .streamTlsKeyStorePassword(password).streamTlsTrustStoreFile(ca.trustStore.toString())
                .streamTlsTrustStorePassword(TestCertificates.PASSWORD);
    }

    private static void exchange(ClusterNode a, ClusterNode b) throws Exception {
        b.registerHandler("echo", in -> in.reply(in.data()));
        await().atMost(Duration.ofSeconds(30)).until(() -> a.messenger().connectedPeers().contains(b.id()));
        byte[] r = a.request(b.id(), "echo", "over tls".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(10))
                .get(20, TimeUnit.SECONDS);
        assertThat(new String(r, StandardCharsets.UTF_8)).isEqualTo("over tls");
    }

    @Test
    void mutualTlsFromPemFilesAndFromKeyStoresCarriesMessages() throws Exception {
        String name = TestNodes.clusterName();
        ClusterNode a = start(pem(TestNodes.settings(name, List.of()), first).build(), null);
        ClusterNode b = start(stores(TestNodes.settings(name, List.of("127.0.0.1:" + a.gossipAddress().getPort())),
                second, TestCertificates.PASSWORD).build(), null);
        exchange(a, b);
        exchange(b, a);
        assertThat(a.messenger().stats().protocolErrors() + b.messenger().stats().protocolErrors()).isZero();
    }

    @Test
    void theKeyedHelloFromTheBuilderCarriesMessages() throws Exception {
        String name = TestNodes.clusterName();
        StreamKeys keys = StreamKeys.of("0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
        ClusterNode a = start(TestNodes.settings(name, List.of()).build(), keys);
        ClusterNode b = start(TestNodes.settings(name, List.of("127.0.0.1:" + a.gossipAddress().getPort())).build(),
                keys);
        exchange(a, b);
    }

    @Test
    void aWrongStorePasswordFailsStartNamingTheFileButNotThePassword() {
        ClusterSettings settings = stores(TestNodes.settings(TestNodes.clusterName(), List.of()), first, SECRET).build();
        assertThat(settings.toString()).doesNotContain(SECRET).contains("streamTlsKeyStorePassword=****");
        ClusterNode node = ClusterNode.builder().clusterSettings(settings).build();
        nodes.add(node);
        assertThatThrownBy(node::start).isInstanceOf(ClusterStartException.class)
                .hasMessageContaining(first.keyStore().toString())
                .satisfies(e -> {
                    for (Throwable t = e; t != null; t = t.getCause()) {
                        assertThat(String.valueOf(t.getMessage())).doesNotContain(SECRET);
                    }
                });
        assertThat(node.state()).isEqualTo(LifecycleState.CLOSED);
    }
}
