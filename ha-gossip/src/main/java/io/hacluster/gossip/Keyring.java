package io.hacluster.gossip;

import io.hacluster.gossip.wire.MalformedMessageException;
import io.hacluster.gossip.wire.MalformedMessageException.Reason;
import io.hacluster.gossip.wire.PayloadCipher;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * memberlist's keyring and encryption ({@code keyring.go}, {@code security.go}): AES-GCM from the
 * JDK with 16, 24 or 32-byte keys (AES-128/192/256), a 12-byte random nonce and a 16-byte tag.
 * The first key is the primary: it encrypts and is tried first; every installed key decrypts, so
 * a key can be rotated in without a gap: {@link #installKey} on every node, then
 * {@link #useKey}, then {@link #removeKey} of the old one.
 *
 * <p>Wire layout: {@code [version][nonce 12][ciphertext and tag]}. Version 0 pads the plaintext
 * PKCS#7-style to the AES block size before sealing (45 bytes of overhead at most); version 1
 * does not pad (29 bytes). Both are decoded; which is sent follows the protocol version as in
 * memberlist ({@link #cipherFor}). The associated data (the label, and for streams the stream
 * header) is authenticated but not encrypted.
 *
 * <p>Thread-safe: the key list is an immutable snapshot replaced under a lock, so encryption
 * never blocks on a rotation. Keys are never printed: {@link #toString()} shows their number and
 * short SHA-256 fingerprints only.
 */
public final class Keyring {

    /** Bytes of the version prefix, nonce and GCM tag. */
    static final int VERSION_SIZE = 1;
    static final int NONCE_SIZE = 12;
    static final int TAG_SIZE = 16;
    private static final int BLOCK_SIZE = 16;
    private static final int MAX_VERSION = 1;

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ThreadLocal<Cipher> GCM = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK offers no AES/GCM/NoPadding", e);
        }
    });

    private final Object lock = new Object();
    /** Primary first; replaced, never mutated. */
    private volatile List<SecretKeySpec> keys;

    private Keyring(List<SecretKeySpec> keys) {
        this.keys = keys;
    }

    /**
     * A keyring with {@code primary} as the primary key and {@code others} installed for
     * decryption only.
     *
     * @throws IllegalArgumentException when a key is not 16, 24 or 32 bytes long
     */
    public static Keyring of(byte[] primary, byte[]... others) {
        List<SecretKeySpec> list = new ArrayList<>();
        list.add(spec(primary));
        for (byte[] k : others) {
            SecretKeySpec s = spec(k);
            if (indexOf(list, s.getEncoded()) < 0) {
                list.add(s);
            }
        }
        return new Keyring(List.copyOf(list));
    }

    /** A fresh random 32-byte (AES-256) key, as {@code serf keygen} makes. */
    public static byte[] generateKey() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return key;
    }

    /**
     * Decodes a base64 key (serf's {@code -encrypt} form) and checks its length.
     *
     * @throws IllegalArgumentException when it is not base64 or not 16, 24 or 32 bytes; the
     *                                  message never contains the input
     */
    public static byte[] decodeKey(String base64) {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(base64.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the gossip key is not valid base64");
        }
        validate(key);
        return key;
    }

    /** The base64 form of a key, as serf prints and takes it. */
    public static String encodeKey(byte[] key) {
        return Base64.getEncoder().encodeToString(key);
    }

    /** Checks the key length memberlist's {@code ValidateKey} accepts. */
    public static void validate(byte[] key) {
        if (key == null || (key.length != 16 && key.length != 24 && key.length != 32)) {
            throw new IllegalArgumentException("a gossip key must be 16, 24 or 32 bytes long (AES-128, -192 or -256), was "
                    + (key == null ? "null" : key.length + " bytes"));
        }
    }

    private static SecretKeySpec spec(byte[] key) {
        validate(key);
        return new SecretKeySpec(key, "AES");
    }

    private static int indexOf(List<SecretKeySpec> list, byte[] key) {
        for (int i = 0; i < list.size(); i++) {
            if (MessageDigest.isEqual(list.get(i).getEncoded(), key)) {
                return i;
            }
        }
        return -1;
    }

    /** Installs a key for decryption; installing an installed key does nothing. */
    public void installKey(byte[] key) {
        SecretKeySpec s = spec(key);
        synchronized (lock) {
            if (indexOf(keys, key) >= 0) {
                return;
            }
            List<SecretKeySpec> next = new ArrayList<>(keys);
            next.add(s);
            keys = List.copyOf(next);
        }
    }

    /**
     * Makes an installed key the primary (it encrypts from now on).
     *
     * @throws IllegalArgumentException when the key is not installed
     */
    public void useKey(byte[] key) {
        synchronized (lock) {
            int i = indexOf(keys, key);
            if (i < 0) {
                throw new IllegalArgumentException("requested key is not in the keyring");
            }
            // memberlist's installKeys: the new primary first, the others in their order
            List<SecretKeySpec> next = new ArrayList<>(keys);
            SecretKeySpec primary = next.remove(i);
            next.add(0, primary);
            keys = List.copyOf(next);
        }
    }

    /**
     * Removes a key; removing a key that is not installed does nothing.
     *
     * @throws IllegalArgumentException when the key is the primary
     */
    public void removeKey(byte[] key) {
        synchronized (lock) {
            int i = indexOf(keys, key);
            if (i == 0) {
                throw new IllegalArgumentException("removing the primary key is not allowed");
            }
            if (i < 0) {
                return;
            }
            List<SecretKeySpec> next = new ArrayList<>(keys);
            next.remove(i);
            keys = List.copyOf(next);
        }
    }

    /** Copies of the installed keys, primary first. */
    public List<byte[]> keys() {
        return keys.stream().map(SecretKeySpec::getEncoded).toList();
    }

    /** A copy of the primary key. */
    public byte[] primaryKey() {
        return keys.get(0).getEncoded();
    }

    /** The first 8 hex digits of a key's SHA-256: enough to tell keys apart in logs, useless to an attacker. */
    public static String fingerprint(byte[] key) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(key);
            return String.format("%02x%02x%02x%02x", d[0], d[1], d[2], d[3]);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The encryption version memberlist sends at a protocol version ({@code encryptionVersion}):
     * 0 (padded) at protocol 1, 1 (unpadded) above.
     */
    public static int encryptionVersionFor(int protocolVersion) {
        return protocolVersion <= 1 ? 0 : 1;
    }

    /** A cipher over this keyring that sends the encryption version of {@code protocolVersion}. */
    public PayloadCipher cipherFor(int protocolVersion) {
        return new KeyringCipher(encryptionVersionFor(protocolVersion));
    }

    /** memberlist's {@code encryptedLength}. */
    static int encryptedLength(int version, int plaintextLength) {
        if (version >= 1) {
            return VERSION_SIZE + NONCE_SIZE + plaintextLength + TAG_SIZE;
        }
        int padding = BLOCK_SIZE - (plaintextLength % BLOCK_SIZE);
        return VERSION_SIZE + NONCE_SIZE + plaintextLength + padding + TAG_SIZE;
    }

    /** Encrypts with the primary key in the given version's layout. */
    byte[] encrypt(int version, byte[] plaintext, byte[] associatedData) {
        SecretKeySpec key = keys.get(0);
        byte[] src = plaintext;
        if (version == 0) {
            int padding = BLOCK_SIZE - (plaintext.length % BLOCK_SIZE);
            src = java.util.Arrays.copyOf(plaintext, plaintext.length + padding);
            java.util.Arrays.fill(src, plaintext.length, src.length, (byte) padding);
        }
        byte[] out = new byte[VERSION_SIZE + NONCE_SIZE + src.length + TAG_SIZE];
        out[0] = (byte) version;
        byte[] nonce = new byte[NONCE_SIZE];
        RANDOM.nextBytes(nonce);
        System.arraycopy(nonce, 0, out, VERSION_SIZE, NONCE_SIZE);
        try {
            Cipher c = GCM.get();
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_SIZE * 8, nonce));
            c.updateAAD(associatedData);
            int n = c.doFinal(src, 0, src.length, out, VERSION_SIZE + NONCE_SIZE);
            if (n != src.length + TAG_SIZE) {
                throw new IllegalStateException("AES-GCM produced " + n + " bytes");
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption failed", e);
        }
        return out;
    }

    /** memberlist's {@code decryptPayload}: any installed key, primary first, either version. */
    byte[] decrypt(byte[] msg, byte[] associatedData) throws MalformedMessageException {
        if (msg.length == 0) {
            throw new MalformedMessageException(Reason.ENCRYPTION, "cannot decrypt an empty payload");
        }
        int version = msg[0] & 0xFF;
        if (version > MAX_VERSION) {
            throw new MalformedMessageException(Reason.ENCRYPTION, "unsupported encryption version " + version);
        }
        if (msg.length < encryptedLength(version, 0)) {
            throw new MalformedMessageException(Reason.ENCRYPTION, "payload is too small to decrypt: " + msg.length);
        }
        GCMParameterSpec nonce = new GCMParameterSpec(TAG_SIZE * 8, msg, VERSION_SIZE, NONCE_SIZE);
        int offset = VERSION_SIZE + NONCE_SIZE;
        for (SecretKeySpec key : keys) {
            byte[] plain;
            try {
                Cipher c = GCM.get();
                c.init(Cipher.DECRYPT_MODE, key, nonce);
                c.updateAAD(associatedData);
                plain = c.doFinal(msg, offset, msg.length - offset);
            } catch (javax.crypto.AEADBadTagException e) {
                continue; // not this key
            } catch (GeneralSecurityException e) {
                continue;
            }
            if (version == 0) {
                return unpad(plain);
            }
            return plain;
        }
        throw new MalformedMessageException(Reason.ENCRYPTION, "no installed key could decrypt the message");
    }

    /** Removes PKCS#7 padding, refusing a pad memberlist could not have written. */
    private static byte[] unpad(byte[] plain) throws MalformedMessageException {
        if (plain.length == 0) {
            throw new MalformedMessageException(Reason.ENCRYPTION, "padded payload is empty");
        }
        int pad = plain[plain.length - 1] & 0xFF;
        if (pad < 1 || pad > BLOCK_SIZE || pad > plain.length) {
            throw new MalformedMessageException(Reason.ENCRYPTION, "invalid padding " + pad);
        }
        return java.util.Arrays.copyOf(plain, plain.length - pad);
    }

    /** Number of keys and their fingerprints; never the keys. */
    @Override
    public String toString() {
        List<SecretKeySpec> k = keys;
        StringBuilder b = new StringBuilder("Keyring[keys=").append(k.size()).append(", primary=");
        b.append(fingerprint(k.get(0).getEncoded())).append(']');
        return b.toString();
    }

    /** The seam implementation: one encryption version for sending, both for receiving. */
    private final class KeyringCipher implements PayloadCipher {
        private final int version;

        KeyringCipher(int version) {
            this.version = version;
        }

        @Override
        public int encryptedLength(int plaintextLength) {
            return Keyring.encryptedLength(version, plaintextLength);
        }

        @Override
        public byte[] encrypt(byte[] plaintext, byte[] associatedData) {
            return Keyring.this.encrypt(version, plaintext, associatedData);
        }

        @Override
        public byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws MalformedMessageException {
            return Keyring.this.decrypt(ciphertext, associatedData);
        }

        @Override
        public String toString() {
            return "KeyringCipher[version=" + version + ", " + Keyring.this + "]";
        }
    }
}
