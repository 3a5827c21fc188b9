package io.hacluster.bench.messaging;

import io.hacluster.messaging.StreamTls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Mutual TLS for the benchmark's messengers: one EC P-256 certificate for 127.0.0.1 made with the
 * JDK's keytool in a temporary directory (no key material in the repository), trusted by itself,
 * so every handshake is a full mutual one with the JDK provider, as in production.
 */
final class BenchTls {

    private static final String PASSWORD = "bench-only";
    private static StreamTls tls;

    private BenchTls() {
    }

    static synchronized StreamTls mutual() throws IOException, InterruptedException {
        if (tls == null) {
            Path dir = Files.createTempDirectory("ha-bench-tls");
            Path store = dir.resolve("node.p12");
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                    "-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                    "-dname", "CN=ha-bench", "-ext", "SAN=ip:127.0.0.1", "-storetype", "PKCS12",
                    "-keystore", store.toString(), "-storepass", PASSWORD).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("keytool failed: " + out);
            }
            tls = StreamTls.fromStores(store, "PKCS12", PASSWORD.toCharArray(), store, "PKCS12",
                    PASSWORD.toCharArray(), true);
        }
        return tls;
    }
}
