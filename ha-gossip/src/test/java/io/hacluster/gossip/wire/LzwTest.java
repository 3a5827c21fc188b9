package io.hacluster.gossip.wire;

import io.hacluster.gossip.wire.MalformedMessageException.Reason;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static io.hacluster.gossip.wire.Hex.bytes;
import static io.hacluster.gossip.wire.Hex.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** LZW against vectors published in Go's compress/lzw tests (LSB, literal width 8), and round trips. */
class LzwTest {

    private static final byte[] TOBE = "TOBEORNOTTOBEORTOBEORNOT".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TOBE_GO =
            bytes("54 9e 08 29 f2 44 8a 93 27 54 04 12 34 b8 b0 e0 c1 84 01 01");

    @Test
    void emptyInputIsJustTheEofCode() throws Exception {
        assertThat(hex(Lzw.compress(new byte[0]))).isEqualTo("01 01");
        assertThat(Lzw.decompress(bytes("01 01"), 10)).isEmpty();
    }

    @Test
    void compressesTobeExactlyAsGo() throws Exception {
        assertThat(hex(Lzw.compress(TOBE))).isEqualTo(hex(TOBE_GO));
        assertThat(Lzw.decompress(TOBE_GO, 100)).isEqualTo(TOBE);
    }

    @Test
    void decodesGoVectorThatStartsWithAClearCode() throws Exception {
        byte[] raw = bytes("28 ff ff ff 28 ff ff ff ff ff ff ff ff ff ff");
        assertThat(Lzw.decompress(bytes("00 51 fc 1b 28 70 a0 c1 83 01 01"), 100)).isEqualTo(raw);
    }

    @Test
    void truncatedDataWithoutEofCodeIsRejected() {
        assertThatThrownBy(() -> Lzw.decompress(bytes("54 9e 08 29 f2 44 8a 93 27 54 04"), 100))
                .isInstanceOf(MalformedMessageException.class)
                .satisfies(e -> assertThat(((MalformedMessageException) e).reason()).isEqualTo(Reason.COMPRESSION));
    }

    @Test
    void roundTripsAcrossTableResetsAndWidthChanges() throws Exception {
        Random random = new Random(42);
        for (int size : new int[] {1, 2, 255, 256, 511, 512, 4096, 5000, 70_000, 300_000}) {
            for (int alphabet : new int[] {1, 2, 16, 256}) {
                byte[] input = new byte[size];
                for (int i = 0; i < size; i++) {
                    input[i] = (byte) random.nextInt(alphabet);
                }
                byte[] packed = Lzw.compress(input);
                assertThat(Lzw.decompress(packed, size)).as("size %d alphabet %d", size, alphabet).isEqualTo(input);
            }
        }
    }

    @Test
    void outputBoundIsEnforcedBeforeExpanding() {
        byte[] zeros = new byte[1_000_000];
        byte[] packed = Lzw.compress(zeros);
        assertThat(packed.length).isLessThan(20_000);
        assertThatThrownBy(() -> Lzw.decompress(packed, 999_999))
                .isInstanceOf(MalformedMessageException.class)
                .satisfies(e -> assertThat(((MalformedMessageException) e).reason()).isEqualTo(Reason.TOO_LARGE));
    }

    @Test
    void codeAboveTheNextFreeCodeIsRejected() {
        // 9-bit code 0x1ff (511) as the first code: nothing is defined yet.
        assertThatThrownBy(() -> Lzw.decompress(bytes("ff 01 01 01"), 100))
                .isInstanceOf(MalformedMessageException.class);
    }
}
