package io.hacluster.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class NodeMetaTest {

    private static final NodeMeta META = new NodeMeta("prod", NodeId.generate(), "10.5.1", "128",
            "d41d8cd98f00b204e9800998ecf8427e", "app-1.example.com", 8075);

    @Test
    void roundTrips() {
        byte[] bytes = META.encode();
        assertThat(bytes.length).isLessThanOrEqualTo(NodeMeta.MAX_BYTES);
        assertThat(NodeMeta.decode(bytes)).isEqualTo(META);
        assertThat(NodeMeta.isNodeMeta(bytes)).isTrue();
    }

    @Test
    void trailingBytesFromANewerFormatAreIgnored() {
        byte[] bytes = META.encode();
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 5);
        longer[2] = 2;
        assertThat(NodeMeta.decode(longer)).isEqualTo(META);
    }

    @Test
    void oversizedMetaIsAClearErrorNamingTheSizes() {
        NodeMeta big = new NodeMeta("c".repeat(60), NodeId.generate(), "v".repeat(100), "s".repeat(100),
                "h".repeat(100), "x".repeat(200), 1);
        assertThatThrownBy(big::encode)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("over gossip's limit of 512")
                .hasMessageContaining("hostname 200 B");
    }

    @Test
    void overlongFieldIsNamed() {
        NodeMeta longHost = new NodeMeta("c", "i", "1.0", "1", "h", "x".repeat(300), 1);
        assertThatThrownBy(longHost::encode).hasMessageContaining("hostname is 300 UTF-8 bytes");
    }

    @Test
    void truncatedAndForeignInputIsRejectedClearly() {
        byte[] bytes = META.encode();
        for (int len = 0; len < bytes.length; len++) {
            byte[] cut = Arrays.copyOf(bytes, len);
            assertThatThrownBy(() -> NodeMeta.decode(cut)).isInstanceOf(IllegalArgumentException.class);
        }
        // serf's tags are a msgpack map, which starts with 0x8X.
        assertThatThrownBy(() -> NodeMeta.decode(new byte[] {(byte) 0x81, (byte) 0xa4, 'r', 'o', 'l', 'e'}))
                .hasMessageContaining("bad magic");
        assertThatThrownBy(() -> NodeMeta.decode(new byte[513])).hasMessageContaining("over 512");
    }

    @Test
    void invalidUtf8IsRejected() {
        byte[] bytes = META.encode();
        bytes[4] = (byte) 0xff;  // first byte of the cluster name
        assertThatThrownBy(() -> NodeMeta.decode(bytes)).hasMessageContaining("not valid UTF-8");
    }

    @Property(tries = 3000)
    void randomBytesNeverEscapeAsAnythingButIllegalArgument(@ForAll @Size(max = 600) byte[] bytes) {
        try {
            NodeMeta.decode(bytes);
        } catch (IllegalArgumentException expected) {
            // fine: hostile input gives a clear error
        }
    }

    @Property(tries = 3000)
    void mutatedValidMetaNeverEscapesAsAnythingButIllegalArgument(@ForAll("mutations") byte[] bytes) {
        try {
            NodeMeta decoded = NodeMeta.decode(bytes);
            assertThat(decoded.encode().length).isLessThanOrEqualTo(NodeMeta.MAX_BYTES);
        } catch (IllegalArgumentException expected) {
            // fine
        }
    }

    @Provide
    Arbitrary<byte[]> mutations() {
        byte[] valid = META.encode();
        return Arbitraries.integers().between(0, valid.length - 1)
                .flatMap(pos -> Arbitraries.bytes().map(b -> {
                    byte[] copy = valid.clone();
                    copy[pos] = b;
                    return copy;
                }));
    }

    @Property(tries = 500)
    void anyMetaThatEncodesDecodesToItself(@ForAll @StringLength(max = 40) String cluster, @ForAll @StringLength(max = 40) String version,
                                           @ForAll @StringLength(min = 1, max = 80) String host) {
        if (!encodable(cluster) || !encodable(version) || !encodable(host)) {
            return;  // lone surrogates have no UTF-8 form; Java would write '?' for them
        }
        NodeMeta meta = new NodeMeta(cluster, NodeId.generate(), version, "1", "hash", host, 8075);
        byte[] bytes;
        try {
            bytes = meta.encode();
        } catch (IllegalArgumentException tooBig) {
            return;
        }
        assertThat(NodeMeta.decode(bytes)).isEqualTo(meta);
    }

    private static boolean encodable(String s) {
        return new String(s.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                java.nio.charset.StandardCharsets.UTF_8).equals(s);
    }
}
