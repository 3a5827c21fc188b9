package io.hacluster.gossip.wire;

import java.util.List;

/**
 * What one received packet carried, after its label, encryption, CRC, compression and compound
 * wrappers were removed.
 *
 * @param messages        the plain messages, each {@code [type][body]}, in packet order; decode
 *                        each with {@link Codec#decode(byte[], WireLimits)}
 * @param truncatedParts  compound parts announced but cut off by the end of the packet; like
 *                        memberlist, the complete parts are still delivered, and the count is
 *                        reported so it can be logged and counted
 * @param hadCrc          whether the packet carried a (verified) CRC32
 * @param wasEncrypted    whether the packet was decrypted
 */
public record UnwrappedPacket(List<byte[]> messages, int truncatedParts, boolean hadCrc,
                              boolean wasEncrypted) {

    /** Copies the message list. */
    public UnwrappedPacket {
        messages = List.copyOf(messages);
    }
}
