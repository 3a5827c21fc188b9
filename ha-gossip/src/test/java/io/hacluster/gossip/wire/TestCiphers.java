package io.hacluster.gossip.wire;

import io.hacluster.gossip.wire.MalformedMessageException.Reason;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * A test-only {@link PayloadCipher}: memberlist's encryption version 1 layout
 * ({@code [1][12-byte nonce][AES-GCM ciphertext and 16-byte tag]}) over the JDK's AES-GCM, one
 * key. It exists to exercise the seam's framing and associated data, not as the product cipher.
 */
final class TestCiphers {

    private TestCiphers() {
    }

    static PayloadCipher aesGcm(byte[] key) {
        SecureRandom random = new SecureRandom();
        return new PayloadCipher() {
            @Override
            public int encryptedLength(int plaintextLength) {
                return 1 + 12 + plaintextLength + 16;
            }

            @Override
            public byte[] encrypt(byte[] plaintext, byte[] associatedData) {
                try {
                    byte[] nonce = new byte[12];
                    random.nextBytes(nonce);
                    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                    c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
                    c.updateAAD(associatedData);
                    byte[] sealed = c.doFinal(plaintext);
                    byte[] out = new byte[13 + sealed.length];
                    out[0] = 1;
                    System.arraycopy(nonce, 0, out, 1, 12);
                    System.arraycopy(sealed, 0, out, 13, sealed.length);
                    return out;
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws MalformedMessageException {
                if (ciphertext.length < 29 || ciphertext[0] != 1) {
                    throw new MalformedMessageException(Reason.ENCRYPTION, "not a version 1 payload");
                }
                try {
                    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                    c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"),
                            new GCMParameterSpec(128, Arrays.copyOfRange(ciphertext, 1, 13)));
                    c.updateAAD(associatedData);
                    return c.doFinal(ciphertext, 13, ciphertext.length - 13);
                } catch (GeneralSecurityException e) {
                    throw new MalformedMessageException(Reason.ENCRYPTION, "no installed key could decrypt");
                }
            }
        };
    }
}
