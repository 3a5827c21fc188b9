package io.hacluster.gossip.wire;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.Random;

/**
 * {@link TestCiphers#aesGcm}'s layout ({@code [1][12-byte nonce][AES-GCM ciphertext and tag]})
 * with nonces drawn from a seeded {@link Random}, so an encrypted input generated from a seed is
 * the same bytes on every run and a failure can be replayed from its seed. Decryption is
 * {@link TestCiphers#aesGcm}'s own, which also checks that both agree on the layout. Never reuse
 * a nonce sequence outside tests.
 */
final class SeededNonceCipher implements PayloadCipher {

    private final byte[] key;
    private final Random nonces;
    private final PayloadCipher decryptor;

    SeededNonceCipher(byte[] key, long nonceSeed) {
        this.key = key.clone();
        this.nonces = new Random(nonceSeed);
        this.decryptor = TestCiphers.aesGcm(key);
    }

    @Override
    public int encryptedLength(int plaintextLength) {
        return decryptor.encryptedLength(plaintextLength);
    }

    @Override
    public byte[] encrypt(byte[] plaintext, byte[] associatedData) {
        byte[] nonce = new byte[12];
        nonces.nextBytes(nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
            c.updateAAD(associatedData);
            byte[] sealed = c.doFinal(plaintext);
            byte[] out = new byte[1 + nonce.length + sealed.length];
            out[0] = 1;
            System.arraycopy(nonce, 0, out, 1, nonce.length);
            System.arraycopy(sealed, 0, out, 1 + nonce.length, sealed.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws MalformedMessageException {
        return decryptor.decrypt(ciphertext, associatedData);
    }
}
