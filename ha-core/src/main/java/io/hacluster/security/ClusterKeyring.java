package io.hacluster.security;

import io.hacluster.gossip.Keyring;
import io.hacluster.messaging.IncomingMessage;
import io.hacluster.messaging.NodeReply;
import io.hacluster.gossip.wire.MalformedMessageException;
import io.hacluster.gossip.wire.PayloadCipher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Cluster-wide keyring operations, as serf's {@code keys} command: each operation is asked of
 * every live node (this one included) over the reliable channel and the answers are gathered
 * per node. Rotation without downtime is {@link #installKey} (every node decrypts with the new
 * key), then {@link #useKey} (every node encrypts with it), then {@link #removeKey} of the old key.
 *
 * <p>The request carries key material, and the streaming channel may be plaintext, so the
 * request is sealed with the gossip keyring itself (AES-GCM under the sender's primary key,
 * associated data naming the operation): a node opens it with any installed key. This also
 * authenticates it: a connection from a node without a current key cannot change anyone's
 * keyring. Replies hold fingerprints only. Nothing here logs a key.
 */
public final class ClusterKeyring {

    /** Internal event name; reserved, an application cannot register it. */
    public static final String EVENT = "ha.keyring";

    private static final Logger LOG = LoggerFactory.getLogger(ClusterKeyring.class);
    private static final byte[] AAD = "ha-cluster keyring v1".getBytes(StandardCharsets.US_ASCII);

    /** Asks every live node, this one included (ClusterNode#gather). */
    @FunctionalInterface
    public interface Gather {
        CompletableFuture<Map<String, NodeReply>> gather(String event, byte[] data, Duration timeout);
    }

    private enum Op {
        INSTALL, USE, REMOVE, LIST
    }

    private final String nodeId;
    private final Keyring local;
    private final PayloadCipher cipher;
    private final Gather gather;
    private final Duration timeout;
    private final PrimaryStore primaryStore;

    /** Where the cluster's key is kept for nodes that start later (the database), if anywhere. */
    @FunctionalInterface
    public interface PrimaryStore {
        void replace(byte[] key) throws Exception;
    }

    /**
     * @param primaryStore called on this node after a {@link #useKey} that every node accepted,
     *                     to keep the stored key current; {@code null} when the key comes from
     *                     the configuration (the operator updates it there)
     */
    public ClusterKeyring(String nodeId, Keyring local, Gather gather, Duration timeout, PrimaryStore primaryStore) {
        this.nodeId = nodeId;
        this.local = local;
        this.cipher = local.cipherFor(2);
        this.gather = gather;
        this.timeout = timeout;
        this.primaryStore = primaryStore;
    }

    /** Installs a key (base64, 16/24/32 bytes) on every node, for decryption. */
    public CompletableFuture<KeyringResponse> installKey(String base64Key) {
        return run(Op.INSTALL, Keyring.decodeKey(base64Key));
    }

    /**
     * Makes an installed key the primary on every node; a node without it reports an error. When
     * every node accepted and the key is kept in the database, the stored key is replaced too, so
     * that a node started later uses it; a failure to store is reported as an error of this node.
     */
    public CompletableFuture<KeyringResponse> useKey(String base64Key) {
        byte[] key = Keyring.decodeKey(base64Key);
        return run(Op.USE, key).thenApply(response -> {
            if (!response.ok() || primaryStore == null) {
                return response;
            }
            try {
                primaryStore.replace(key);
                return response;
            } catch (Exception e) {
                java.util.Map<String, String> errors = new java.util.HashMap<>(response.errors());
                errors.put(nodeId, "every node uses the key, but storing it for later starts failed: "
                        + e.getMessage());
                return KeyringResponse.of(response.numNodes(), errors, response.keys(), response.primaryKeys());
            }
        });
    }

    /** Removes a key from every node; a node using it as primary refuses. */
    public CompletableFuture<KeyringResponse> removeKey(String base64Key) {
        return run(Op.REMOVE, Keyring.decodeKey(base64Key));
    }

    /** The keys of every node, as fingerprints with counts. */
    public CompletableFuture<KeyringResponse> listKeys() {
        return run(Op.LIST, new byte[0]);
    }

    /** This node's keyring (the live object gossip encrypts with). */
    public Keyring local() {
        return local;
    }

    private CompletableFuture<KeyringResponse> run(Op op, byte[] key) {
        byte[] plain = new byte[1 + key.length];
        plain[0] = (byte) op.ordinal();
        System.arraycopy(key, 0, plain, 1, key.length);
        byte[] sealed = cipher.encrypt(plain, AAD);
        Arrays.fill(plain, (byte) 0);
        LOG.info("node {}: keyring {} of key {} asked of every node", nodeId, op,
                key.length == 0 ? "-" : Keyring.fingerprint(key));
        return gather.gather(EVENT, sealed, timeout).thenApply(replies -> collect(op, replies));
    }

    private static KeyringResponse collect(Op op, Map<String, NodeReply> replies) {
        Map<String, String> errors = new HashMap<>();
        Map<String, Integer> keys = new HashMap<>();
        Map<String, Integer> primaries = new HashMap<>();
        replies.forEach((node, reply) -> {
            if (!reply.isOk()) {
                Throwable e = reply.error();
                errors.put(node, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
                return;
            }
            if (op == Op.LIST) {
                // "primary;fp1,fp2,..."
                String text = new String(reply.data(), StandardCharsets.US_ASCII);
                int semi = text.indexOf(';');
                if (semi < 0) {
                    errors.put(node, "malformed keyring listing");
                    return;
                }
                primaries.merge(text.substring(0, semi), 1, Integer::sum);
                for (String fp : text.substring(semi + 1).split(",")) {
                    if (!fp.isEmpty()) {
                        keys.merge(fp, 1, Integer::sum);
                    }
                }
            }
        });
        return KeyringResponse.of(replies.size(), errors, keys, primaries);
    }

    /**
     * The handler of {@link #EVENT}: opens the sealed request with this node's keyring, applies it
     * and replies; a refusal (unknown key, primary removal, not authenticated) is thrown, which
     * answers the requester with the message.
     */
    public void handle(IncomingMessage in) {
        if (!in.isRequest()) {
            throw new IllegalArgumentException("keyring operations are requests");
        }
        byte[] plain;
        try {
            plain = cipher.decrypt(in.data(), AAD);
        } catch (MalformedMessageException e) {
            throw new SecurityException("keyring request from " + in.senderId()
                    + " is not sealed with any key installed here; refused");
        }
        if (plain.length < 1 || (plain[0] & 0xFF) >= Op.values().length) {
            throw new IllegalArgumentException("unknown keyring operation");
        }
        Op op = Op.values()[plain[0]];
        byte[] key = Arrays.copyOfRange(plain, 1, plain.length);
        Arrays.fill(plain, (byte) 0);
        try {
            switch (op) {
                case INSTALL -> local.installKey(key);
                case USE -> local.useKey(key);
                case REMOVE -> local.removeKey(key);
                case LIST -> {
                    in.reply(listing().getBytes(StandardCharsets.US_ASCII));
                    return;
                }
            }
        } finally {
            Arrays.fill(key, (byte) 0);
        }
        LOG.info("node {}: keyring {} done at the request of {}; now {}", nodeId, op, in.senderId(), local);
        in.reply(new byte[0]);
    }

    private String listing() {
        StringBuilder b = new StringBuilder(Keyring.fingerprint(local.primaryKey())).append(';');
        for (byte[] k : local.keys()) {
            b.append(Keyring.fingerprint(k)).append(',');
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return "ClusterKeyring[" + local + "]";
    }
}
