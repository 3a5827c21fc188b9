package io.hacluster.gossip.wire;

/**
 * The seam for memberlist's encryption (message type {@code encrypt}, AES-GCM with a keyring).
 * This package only frames encrypted data; the security module provides the implementation.
 *
 * <p>Where the framing puts the ciphertext:
 * <ul>
 *   <li>Packets: the whole packet after the label is the ciphertext (no type byte; memberlist's
 *       encryption version byte 0 or 1 comes first). Associated data: the label bytes (empty
 *       when there is no label).</li>
 *   <li>Streams: {@code [10][uint32 BE ciphertext length][ciphertext]}. Associated data: the five
 *       header bytes followed by the label bytes.</li>
 * </ul>
 * Implementations must be thread-safe and must never log keys or plaintext.
 */
public interface PayloadCipher {

    /**
     * The exact ciphertext length {@link #encrypt} produces for a plaintext of the given length.
     * Streams need it before encrypting because the length is part of the associated data.
     */
    int encryptedLength(int plaintextLength);

    /** Encrypts {@code plaintext} with the primary key, authenticating {@code associatedData}. */
    byte[] encrypt(byte[] plaintext, byte[] associatedData);

    /**
     * Decrypts with any installed key.
     *
     * @throws MalformedMessageException with reason {@code ENCRYPTION} when no key authenticates
     *                                   the ciphertext or it is too short
     */
    byte[] decrypt(byte[] ciphertext, byte[] associatedData) throws MalformedMessageException;
}
