package io.hacluster.messaging;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The keyed HELLO: a challenge-response over the cluster key, so that knowing the cluster name
 * (readable from gossip meta) is never enough to open a stream, and a recorded HELLO is useless.
 *
 * <pre>
 * dialer   -> acceptor: HELLO v2 (cluster, idD, nonceD)
 * acceptor -> dialer:   HELLO v2 (cluster, idA, nonceA, macA)   macA = HMAC(k, "acceptor" | transcript)
 * dialer   -> acceptor: AUTH (macD)                              macD = HMAC(k, "dialer"   | transcript)
 * transcript = str16 cluster | str16 idD | str16 idA | nonceD | nonceA
 * k = HMAC-SHA256(clusterKey, "ha-cluster stream hello v1")
 * </pre>
 *
 * Both nonces are 32 fresh bytes from {@link SecureRandom}, so each proof covers a challenge the
 * verifier chose for this connection only; the role label keeps one side's proof from being
 * reflected back as the other's; both ids and the cluster name are bound into each proof. The
 * stream key is derived from the gossip key rather than being it, so the two uses never share a
 * key. What this does not give: secrecy or integrity of the frames after the handshake (use TLS for
 * that), nor proof of which node holds the key: every key holder can claim any id, so the
 * acceptor's address check still decides between members (docs/security.md).
 */
final class HelloAuth {

    static final int NONCE_BYTES = 32;
    static final int MAC_BYTES = 32;
    private static final byte[] DERIVE_LABEL = "ha-cluster stream hello v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ACCEPTOR = "acceptor".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DIALER = "dialer".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private HelloAuth() {
    }

    static byte[] nonce() {
        byte[] n = new byte[NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    /** The acceptor's proof, with key {@code clusterKey}. */
    static byte[] acceptorProof(byte[] clusterKey, Transcript t) {
        return mac(derive(clusterKey), ACCEPTOR, t);
    }

    /** The dialer's proof, with key {@code clusterKey}. */
    static byte[] dialerProof(byte[] clusterKey, Transcript t) {
        return mac(derive(clusterKey), DIALER, t);
    }

    /** The key among {@code keys} under which {@code proof} is the acceptor's proof, or null. */
    static byte[] acceptorKeyOf(List<byte[]> keys, Transcript t, byte[] proof) {
        for (byte[] k : keys) {
            if (MessageDigest.isEqual(acceptorProof(k, t), proof)) {
                return k;
            }
        }
        return null;
    }

    /** Whether {@code proof} is the dialer's proof under any of {@code keys}. */
    static boolean dialerProofValid(List<byte[]> keys, Transcript t, byte[] proof) {
        for (byte[] k : keys) {
            if (MessageDigest.isEqual(dialerProof(k, t), proof)) {
                return true;
            }
        }
        return false;
    }

    /** What both proofs cover. */
    record Transcript(String clusterName, String dialerId, String acceptorId, byte[] dialerNonce,
                      byte[] acceptorNonce) {
        byte[] encode() {
            byte[] c = clusterName.getBytes(StandardCharsets.UTF_8);
            byte[] d = dialerId.getBytes(StandardCharsets.UTF_8);
            byte[] a = acceptorId.getBytes(StandardCharsets.UTF_8);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(6 + c.length + d.length + a.length
                    + dialerNonce.length + acceptorNonce.length);
            b.putShort((short) c.length).put(c).putShort((short) d.length).put(d).putShort((short) a.length).put(a)
                    .put(dialerNonce).put(acceptorNonce);
            return b.array();
        }
    }

    private static byte[] derive(byte[] clusterKey) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(clusterKey, "HmacSHA256"));
            return m.doFinal(DERIVE_LABEL);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    private static byte[] mac(byte[] key, byte[] role, Transcript t) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            m.update(role);
            return m.doFinal(t.encode());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
