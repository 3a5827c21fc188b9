package io.hacluster.messaging;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates made for a test run with the JDK's {@code keytool} (no committed key material, no
 * extra dependency): a CA, and node certificates it signs, each as PEM files (chain, PKCS#8 key)
 * and as a PKCS#12 key store plus trust store. Node certificates carry the node id as a
 * subjectAltName URI and as CN, and an IP subjectAltName.
 */
public final class TestCertificates {

    /** Password of every store and key made here; test-only material. */
    public static final String PASSWORD = "test-only";

    private final Path dir;
    private final String caAlias;
    private final Path caStore;
    /** The CA certificate, PEM. */
    public final Path caPem;
    /** A PKCS#12 trust store holding only the CA certificate. */
    public final Path trustStore;

    /** One node's material. */
    public record Node(Path certChainPem, Path keyPem, Path keyStore) {
    }

    private TestCertificates(Path dir, String name) throws Exception {
        this.dir = dir;
        this.caAlias = name;
        this.caStore = dir.resolve(name + "-ca.p12");
        this.caPem = dir.resolve(name + "-ca.pem");
        keytool("-genkeypair", "-alias", caAlias, "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-dname", "CN=" + name + " test CA", "-ext", "bc:c", "-storetype", "PKCS12",
                "-keystore", caStore.toString(), "-storepass", PASSWORD);
        keytool("-exportcert", "-rfc", "-alias", caAlias, "-keystore", caStore.toString(), "-storepass", PASSWORD,
                "-file", caPem.toString());
        this.trustStore = dir.resolve(name + "-trust.p12");
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", readCertificates(caPem).get(0));
        try (OutputStream out = Files.newOutputStream(trustStore)) {
            trust.store(out, PASSWORD.toCharArray());
        }
    }

    /** A new CA named {@code name} with its files in {@code dir}. */
    public static TestCertificates ca(Path dir, String name) throws Exception {
        return new TestCertificates(dir, name);
    }

    /** A certificate for node {@code nodeId} at IP {@code ip}, signed by this CA. */
    public Node node(String nodeId, String ip) throws Exception {
        String base = caAlias + "-" + nodeId.replaceAll("[^A-Za-z0-9-]", "_") + "-" + ip;
        Path own = dir.resolve(base + "-own.p12");
        Path csr = dir.resolve(base + ".csr");
        Path signed = dir.resolve(base + "-cert.pem");
        keytool("-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-dname", "CN=" + nodeId, "-storetype", "PKCS12", "-keystore", own.toString(), "-storepass", PASSWORD);
        keytool("-certreq", "-alias", "node", "-keystore", own.toString(), "-storepass", PASSWORD,
                "-file", csr.toString());
        keytool("-gencert", "-rfc", "-alias", caAlias, "-keystore", caStore.toString(), "-storepass", PASSWORD,
                "-infile", csr.toString(), "-outfile", signed.toString(), "-validity", "2",
                "-ext", "SAN=ip:" + ip + ",uri:" + TlsPeerIdentity.NODE_URI_PREFIX + nodeId,
                "-ext", "EKU=serverAuth,clientAuth");
        KeyStore ownStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(own)) {
            ownStore.load(in, PASSWORD.toCharArray());
        }
        PrivateKey key = (PrivateKey) ownStore.getKey("node", PASSWORD.toCharArray());
        List<X509Certificate> chain = new ArrayList<>(readCertificates(signed));
        chain.add(readCertificates(caPem).get(0));

        Path chainPem = dir.resolve(base + "-chain.pem");
        StringBuilder pem = new StringBuilder();
        for (X509Certificate c : chain) {
            pem.append(pem("CERTIFICATE", c.getEncoded()));
        }
        Files.writeString(chainPem, pem);
        Path keyPem = dir.resolve(base + "-key.pem");
        Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()));  // PKCS#8
        Path keyStore = dir.resolve(base + ".p12");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("node", key, PASSWORD.toCharArray(), chain.toArray(new Certificate[0]));
        try (OutputStream out = Files.newOutputStream(keyStore)) {
            ks.store(out, PASSWORD.toCharArray());
        }
        return new Node(chainPem, keyPem, keyStore);
    }

    /** TLS for messengers from a node's PEM files and this CA. */
    public StreamTls pemTls(Node n, boolean mutual) {
        return StreamTls.fromPem(n.certChainPem(), n.keyPem(), null, caPem, mutual);
    }

    /** TLS for messengers from a node's key store and this CA's trust store. */
    public StreamTls storeTls(Node n, boolean mutual) {
        return StreamTls.fromStores(n.keyStore(), "PKCS12", PASSWORD.toCharArray(), trustStore, "PKCS12",
                PASSWORD.toCharArray(), mutual);
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    @SuppressWarnings("unchecked")
    private static List<X509Certificate> readCertificates(Path pem) throws Exception {
        byte[] bytes = Files.readAllBytes(pem);
        return (List<X509Certificate>) (List<?>) new ArrayList<>(CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(bytes)));
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("keytool timed out: " + String.join(" ", args));
        }
        if (p.exitValue() != 0) {
            throw new IOException("keytool " + args[0] + " failed: " + out);
        }
    }
}
