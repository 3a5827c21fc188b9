package io.hacluster.security;

import io.hacluster.config.ClusterSettings;
import io.hacluster.discovery.ConnectionSource;
import io.hacluster.gossip.Keyring;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;

/**
 * Where a node's gossip key comes from when {@code EnableExperimentalGossipEncryption} is on:
 * {@code GossipEncryptionKey} from the configuration if set, else the database
 * ({@link GossipKeyStore}, Mattermost's way: the first node generates the key, every node reads
 * it). Only fingerprints are logged.
 */
public final class GossipEncryption {

    private static final Logger LOG = LoggerFactory.getLogger(GossipEncryption.class);

    private GossipEncryption() {
    }

    /**
     * The node's keyring, or {@code null} when encryption is off.
     *
     * @param database the master database, or {@code null} when the node runs without one
     * @throws IllegalStateException when encryption is on with neither a configured key nor a database
     * @throws SQLException when the database cannot give the key
     */
    public static Keyring keyringFor(ClusterSettings settings, ConnectionSource database, String nodeId)
            throws SQLException {
        if (!settings.enableExperimentalGossipEncryption()) {
            return null;
        }
        byte[] key;
        String source;
        if (!settings.gossipEncryptionKey().isEmpty()) {
            key = Keyring.decodeKey(settings.gossipEncryptionKey());
            source = "ClusterSettings.GossipEncryptionKey";
        } else if (database != null) {
            key = new GossipKeyStore(database, settings.clusterName()).loadOrCreate();
            source = "the database (HaClusterSystems)";
        } else {
            throw new IllegalStateException("ClusterSettings.EnableExperimentalGossipEncryption is on, but there is "
                    + "no ClusterSettings.GossipEncryptionKey and no database to keep a generated key in");
        }
        Keyring ring = Keyring.of(key);
        java.util.Arrays.fill(key, (byte) 0);
        LOG.info("node {}: gossip encryption on, key {} from {}, verify incoming {}, verify outgoing {}", nodeId,
                Keyring.fingerprint(ring.primaryKey()), source, settings.gossipVerifyIncoming(),
                settings.gossipVerifyOutgoing());
        return ring;
    }
}
