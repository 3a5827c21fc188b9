package io.hacluster.gossip.wire;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * How this node wraps and unwraps packets and streams; memberlist's {@code Config} fields of the
 * same meaning.
 *
 * @param label                 cluster label, {@code ""} for none; at most 255 UTF-8 bytes
 *                              ({@code Config.Label})
 * @param skipInboundLabelCheck accept unlabelled input whatever our label is; a labelled input is
 *                              then rejected ({@code Config.SkipInboundLabelCheck})
 * @param cipher                encryption, or {@code null} when disabled
 * @param verifyIncoming        with a cipher: reject input that is not encrypted
 *                              ({@code GossipVerifyIncoming})
 * @param verifyOutgoing        with a cipher: encrypt output ({@code GossipVerifyOutgoing})
 * @param compress              compress output with LZW ({@code EnableCompression}); packets only
 *                              when it makes them smaller, streams always, as memberlist does
 * @param limits                decoder bounds
 */
public record WireOptions(String label, boolean skipInboundLabelCheck, PayloadCipher cipher,
                          boolean verifyIncoming, boolean verifyOutgoing, boolean compress,
                          WireLimits limits) {

    /** memberlist's defaults without encryption: no label, compression on, default limits. */
    public static final WireOptions DEFAULT =
            new WireOptions("", false, null, true, true, true, WireLimits.DEFAULT);

    /** Validates the label length and fills nulls. */
    public WireOptions {
        label = label == null ? "" : label;
        if (label.getBytes(StandardCharsets.UTF_8).length > 255) {
            throw new IllegalArgumentException("label is longer than 255 bytes");
        }
        Objects.requireNonNull(limits, "limits");
    }

    /** A copy with another label. */
    public WireOptions withLabel(String newLabel) {
        return new WireOptions(newLabel, skipInboundLabelCheck, cipher, verifyIncoming,
                verifyOutgoing, compress, limits);
    }

    /** A copy with compression switched on or off. */
    public WireOptions withCompression(boolean enabled) {
        return new WireOptions(label, skipInboundLabelCheck, cipher, verifyIncoming,
                verifyOutgoing, enabled, limits);
    }

    /** A copy with another cipher ({@code null} disables encryption). */
    public WireOptions withCipher(PayloadCipher newCipher) {
        return new WireOptions(label, skipInboundLabelCheck, newCipher, verifyIncoming,
                verifyOutgoing, compress, limits);
    }

    /** A copy with other limits. */
    public WireOptions withLimits(WireLimits newLimits) {
        return new WireOptions(label, skipInboundLabelCheck, cipher, verifyIncoming,
                verifyOutgoing, compress, newLimits);
    }

    /** True when outgoing data is encrypted. */
    boolean encryptsOutgoing() {
        return cipher != null && verifyOutgoing;
    }

    /** The label as bytes. */
    byte[] labelBytes() {
        return label.getBytes(StandardCharsets.UTF_8);
    }

    /** Bytes the label header adds to every packet and stream: 0, or 2 plus the label. */
    public int labelOverhead() {
        return label.isEmpty() ? 0 : 2 + labelBytes().length;
    }

    /** Never prints the cipher, which may hold keys. */
    @Override
    public String toString() {
        return "WireOptions[label=" + label + ", skipInboundLabelCheck=" + skipInboundLabelCheck
                + ", encryption=" + (cipher != null) + ", verifyIncoming=" + verifyIncoming
                + ", verifyOutgoing=" + verifyOutgoing + ", compress=" + compress
                + ", limits=" + limits + "]";
    }
}
