package io.hacluster.messaging;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TLS contexts of the StreamingPort, built from PEM files or from key and trust stores, with
 * the JDK's TLS (TLS 1.3 and 1.2). Every node is both a server (accepted connections) and a client
 * (dialed connections) and uses one certificate for both. HTTPS-style host name verification is
 * off: nodes are addressed by IP and identified by id, and the certificate is bound to the claimed
 * id by {@link TlsPeerIdentity} on both sides instead. Passwords are used, never kept or shown.
 *
 * @param server context for accepted connections
 * @param client context for dialed connections
 */
public record StreamTls(SslContext server, SslContext client) {

    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    /**
     * From PEM files: the certificate chain (this node's certificate first), its PKCS#8 private key
     * ({@code BEGIN PRIVATE KEY}, or {@code BEGIN ENCRYPTED PRIVATE KEY} with {@code keyPassword}),
     * and the CA certificates peers' certificates must chain to.
     *
     * @param keyPassword password of an encrypted key, or null / empty for an unencrypted one
     * @param mutual      whether accepted connections must present a trusted client certificate
     * @throws IllegalArgumentException naming the file that could not be used
     */
    public static StreamTls fromPem(Path certChain, Path privateKey, String keyPassword, Path trustedCa,
                                    boolean mutual) {
        String pw = keyPassword == null || keyPassword.isEmpty() ? null : keyPassword;
        requireReadable("certificate", certChain);
        requireReadable("private key", privateKey);
        requireReadable("CA", trustedCa);
        try {
            SslContext server = common(SslContextBuilder.forServer(certChain.toFile(), privateKey.toFile(), pw))
                    .trustManager(trustedCa.toFile())
                    .clientAuth(mutual ? ClientAuth.REQUIRE : ClientAuth.NONE)
                    .build();
            SslContext client = common(SslContextBuilder.forClient())
                    .keyManager(certChain.toFile(), privateKey.toFile(), pw)
                    .trustManager(trustedCa.toFile())
                    .build();
            return new StreamTls(server, client);
        } catch (SSLException | RuntimeException e) {
            throw new IllegalArgumentException("cannot build TLS from the PEM files " + certChain + ", " + privateKey
                    + ", " + trustedCa + ": " + rootMessage(e), e);
        }
    }

    /**
     * From a key store (this node's key and certificate chain; the key's password is the store's)
     * and a trust store (the CA certificates), each of type {@code PKCS12} or {@code JKS}.
     *
     * @throws IllegalArgumentException naming the store that could not be used
     */
    public static StreamTls fromStores(Path keyStore, String keyStoreType, char[] keyStorePassword,
                                       Path trustStore, String trustStoreType, char[] trustStorePassword,
                                       boolean mutual) {
        KeyManagerFactory kmf;
        TrustManagerFactory tmf;
        try {
            KeyStore keys = load("key store", keyStore, keyStoreType, keyStorePassword);
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, keyStorePassword);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot use the key store " + keyStore + ": " + rootMessage(e), e);
        }
        try {
            KeyStore trusted = load("trust store", trustStore, trustStoreType, trustStorePassword);
            tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trusted);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot use the trust store " + trustStore + ": " + rootMessage(e), e);
        }
        try {
            SslContext server = common(SslContextBuilder.forServer(kmf)).trustManager(tmf)
                    .clientAuth(mutual ? ClientAuth.REQUIRE : ClientAuth.NONE).build();
            SslContext client = common(SslContextBuilder.forClient()).keyManager(kmf).trustManager(tmf).build();
            return new StreamTls(server, client);
        } catch (SSLException | RuntimeException e) {
            throw new IllegalArgumentException("cannot build TLS from " + keyStore + " and " + trustStore + ": "
                    + rootMessage(e), e);
        }
    }

    private static SslContextBuilder common(SslContextBuilder b) {
        return b.sslProvider(SslProvider.JDK).protocols(PROTOCOLS).endpointIdentificationAlgorithm(null);
    }

    private static KeyStore load(String what, Path file, String type, char[] password)
            throws GeneralSecurityException {
        requireReadable(what, file);
        KeyStore store = KeyStore.getInstance(type == null || type.isBlank() ? "PKCS12" : type);
        try (InputStream in = Files.newInputStream(file)) {
            store.load(in, password);
        } catch (IOException e) {
            // a wrong password shows as an IOException whose message never holds the password
            throw new IllegalArgumentException("cannot read the " + what + " " + file + ": " + rootMessage(e), e);
        }
        return store;
    }

    private static void requireReadable(String what, Path file) {
        if (file == null || !Files.isReadable(file)) {
            throw new IllegalArgumentException("the " + what + " file " + file + " is not readable");
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    @Override
    public String toString() {
        return "StreamTls[JDK, " + String.join("/", PROTOCOLS) + "]";
    }
}
