package io.hacluster.gossip.wire;

/**
 * Size bounds applied by every decoder before it allocates or waits for bytes. A length read
 * from the wire is always checked against both the remaining input and these bounds first.
 *
 * @param maxPushStateBytes      bound on the user state of a push/pull, on the encoded node states
 *                               of a push/pull, and on the ciphertext of an encrypted stream
 *                               (memberlist's {@code maxPushStateBytes}, 20 MiB)
 * @param maxUserMessageBytes    bound on the payload of a stream user message
 *                               (memberlist's {@code maxUserMsgBytes}, 20 MiB)
 * @param maxPushNodes           bound on the node count of a push/pull header
 *                               (memberlist's {@code maxPushStateNodes}, 1,048,576)
 * @param maxMetaBytes           bound on node metadata in alive messages and node states
 *                               (memberlist's {@code MetaMaxSize}, 512)
 * @param maxStreamMessageBytes  bound on one whole stream message as framed on the wire, label
 *                               and wrappers included
 * @param maxStreamDecompressedBytes bound on the output of decompressing a stream message
 *                               (memberlist's {@code maxDecompressedBytes}, 40 MiB)
 * @param maxPacketDecompressedBytes bound on the output of decompressing a packet; packets are
 *                               built to fit {@code UDPBufferSize}, so this is far lower
 * @param maxMessagesPerPacket   bound on the messages one packet may unpack into, compound and
 *                               compress nesting included
 */
public record WireLimits(int maxPushStateBytes, int maxUserMessageBytes, int maxPushNodes,
                         int maxMetaBytes, int maxStreamMessageBytes,
                         int maxStreamDecompressedBytes, int maxPacketDecompressedBytes,
                         int maxMessagesPerPacket) {

    /** memberlist's bounds, plus our own for whole stream messages and packet expansion. */
    public static final WireLimits DEFAULT = new WireLimits(
            20 * 1024 * 1024,
            20 * 1024 * 1024,
            1024 * 1024,
            512,
            64 * 1024 * 1024,
            40 * 1024 * 1024,
            1024 * 1024,
            4096);

    /** Rejects non-positive bounds. */
    public WireLimits {
        if (maxPushStateBytes <= 0 || maxUserMessageBytes <= 0 || maxPushNodes <= 0
                || maxMetaBytes <= 0 || maxStreamMessageBytes <= 0
                || maxStreamDecompressedBytes <= 0 || maxPacketDecompressedBytes <= 0
                || maxMessagesPerPacket <= 0) {
            throw new IllegalArgumentException("every wire limit must be positive");
        }
    }
}
