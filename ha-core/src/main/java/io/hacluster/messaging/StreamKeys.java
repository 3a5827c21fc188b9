package io.hacluster.messaging;

import java.util.List;

/**
 * The cluster keys a HELLO is authenticated with (the gossip keyring's keys: raw AES key bytes,
 * 16, 24 or 32 of them). The first key proves this node's HELLO; every key is tried on a peer's
 * proof, so a key rotation (install everywhere, use, remove) never refuses a node that still uses
 * the previous primary. Asked at every handshake, so a rotation takes effect on the next
 * connection. An empty list means no key: the plain HELLO is used.
 *
 * <p>The key bytes are never logged or shown; implementations must not put them in
 * {@code toString}.
 */
@FunctionalInterface
public interface StreamKeys {

    /** The installed keys, primary first; empty when none is available. */
    List<byte[]> keys();

    /** One fixed key (for tests and applications that hold the key themselves). */
    static StreamKeys of(byte[] key) {
        byte[] copy = key.clone();
        return new StreamKeys() {
            @Override
            public List<byte[]> keys() {
                return List.of(copy);
            }

            @Override
            public String toString() {
                return "StreamKeys[1 key]";
            }
        };
    }
}
