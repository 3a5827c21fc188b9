package io.hacluster.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
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
        longer[2] = 3;
        assertThat(NodeMeta.decode(longer)).isEqualTo(META);
    }

    @Test
    void mayLeadRoundTripsInTheFlagsByte() {
        NodeMeta jobOnly = new NodeMeta("prod", NodeId.generate(), "10.5.1", "128", "h", "app-2", 8075, false);
        assertThat(NodeMeta.decode(jobOnly.encode())).isEqualTo(jobOnly);
        assertThat(NodeMeta.decode(jobOnly.encode()).mayLead()).isFalse();
        assertThat(NodeMeta.decode(META.encode()).mayLead()).isTrue();
        assertThat(jobOnly.withConfigHash("other").mayLead()).isFalse();
    }

    @Test
    void formatOneMetaFromAnOlderNodeDecodesAsMayLead() {
        // format 1 is format 2 without the flags byte after the port
        byte[] current = new NodeMeta("prod", "id1", "10.4.0", "127", "h", "old-node", 8075, false).encode();
        byte[] formatOne = Arrays.copyOf(current, current.length - 1);
        formatOne[2] = 1;
        NodeMeta decoded = NodeMeta.decode(formatOne);
        assertThat(decoded.mayLead()).isTrue();
        assertThat(decoded.hostname()).isEqualTo("old-node");
        assertThat(decoded.streamingPort()).isEqualTo(8075);
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

    /** Fixed so a failure reproduces; override with -Dha.test.seed=N to explore. */
    private static final long SEED = Long.getLong("ha.test.seed", 0x5EED_3E7AL);

    @Test
    void randomBytesNeverEscapeAsAnythingButIllegalArgument() {
        Random random = new Random(SEED);
        for (int i = 0; i < 3000; i++) {
            byte[] bytes = new byte[random.nextInt(601)];
            random.nextBytes(bytes);
            decodeRejectsCleanly(bytes, i);
        }
    }

    @Test
    void mutatedValidMetaNeverEscapesAsAnythingButIllegalArgument() {
        Random random = new Random(SEED + 1);
        byte[] valid = META.encode();
        for (int i = 0; i < 3000; i++) {
            byte[] copy = valid.clone();
            int flips = 1 + random.nextInt(3);
            for (int f = 0; f < flips; f++) {
                copy[random.nextInt(copy.length)] = (byte) random.nextInt(256);
            }
            byte[] input = random.nextInt(4) == 0 ? Arrays.copyOf(copy, random.nextInt(copy.length + 1)) : copy;
            decodeRejectsCleanly(input, i);
        }
    }

    private static void decodeRejectsCleanly(byte[] bytes, int iteration) {
        try {
            NodeMeta.decode(bytes);
        } catch (IllegalArgumentException expected) {
            // a clean rejection
        } catch (RuntimeException other) {
            throw new AssertionError("seed " + SEED + ", case " + iteration + ", input "
                    + HexFormat.of().formatHex(bytes) + " escaped as " + other, other);
        }
    }

    @Test
    void anyMetaThatEncodesDecodesToItself() {
        Random random = new Random(SEED + 2);
        for (int i = 0; i < 500; i++) {
            String cluster = randomString(random, 0, 40);
            String version = randomString(random, 0, 40);
            String host = randomString(random, 1, 80);
            NodeMeta meta = new NodeMeta(cluster, NodeId.generate(), version, "1", "hash", host, 8075);
            byte[] bytes;
            try {
                bytes = meta.encode();
            } catch (IllegalArgumentException tooBig) {
                continue;
            }
            assertThat(NodeMeta.decode(bytes)).as("seed %d case %d", SEED, i).isEqualTo(meta);
        }
    }

    /** Strings over ASCII, Latin-1, CJK and astral code points, always well-formed UTF-16. */
    private static String randomString(Random random, int minLength, int maxLength) {
        int length = minLength + random.nextInt(maxLength - minLength + 1);
        StringBuilder sb = new StringBuilder(length * 2);
        while (sb.length() < length) {
            int codePoint = switch (random.nextInt(4)) {
                case 0 -> 0x20 + random.nextInt(0x5F);
                case 1 -> 0xA0 + random.nextInt(0x60);
                case 2 -> 0x4E00 + random.nextInt(0x5000);
                default -> 0x1F300 + random.nextInt(0x300);
            };
            sb.appendCodePoint(codePoint);
        }
        return sb.toString();
    }
}
