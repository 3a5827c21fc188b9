package io.hacluster.gossip;

/**
 * Supplies the local node's metadata when the node starts (memberlist's {@code NodeMeta}).
 * Later changes go through {@link Memberlist#updateMeta}.
 */
@FunctionalInterface
public interface MetadataProvider {

    /**
     * The metadata to advertise, at most {@code limit} bytes ({@link GossipConfig#META_MAX_SIZE});
     * longer metadata makes the node refuse to start.
     */
    byte[] localMeta(int limit);
}
