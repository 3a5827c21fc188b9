package io.hacluster.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeIdTest {

    @TempDir
    Path dir;

    @Test
    void generatedIdsAre26CharactersOfMattermostsAlphabetAndDistinct() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id = NodeId.generate();
            assertThat(id).hasSize(26).matches("[ybndrfg8ejkmcpqxot1uwisza345h769]{26}");
            assertThat(NodeId.isValid(id)).isTrue();
            seen.add(id);
        }
        assertThat(seen).hasSize(10_000);
    }

    @Test
    void encodingIsBase32WithMattermostsAlphabet() {
        // All-zero bytes map to the alphabet's first character; all-one bytes to its last for
        // 25 full characters and the 3 leftover bits left-aligned (0b11100 = 28 -> 'h').
        assertThat(NodeId.encode(new byte[16])).isEqualTo("y".repeat(26));
        byte[] ones = new byte[16];
        java.util.Arrays.fill(ones, (byte) 0xff);
        assertThat(NodeId.encode(ones)).isEqualTo("9".repeat(25) + "h");
    }

    @Test
    void validationRejectsWrongShapes() {
        assertThat(NodeId.isValid(null)).isFalse();
        assertThat(NodeId.isValid("abc")).isFalse();
        assertThat(NodeId.isValid("A".repeat(26))).isFalse();
        assertThat(NodeId.isValid("a".repeat(25) + "-")).isFalse();
        assertThat(NodeId.isValid("a".repeat(27))).isFalse();
        assertThat(NodeId.isValid("a".repeat(26))).isTrue();
    }

    @Test
    void idIsPersistedAndReadBack() throws Exception {
        Path file = dir.resolve("sub/dir/node-id");
        String first = NodeId.loadOrCreate(file);
        assertThat(Files.readString(file).strip()).isEqualTo(first);
        assertThat(NodeId.loadOrCreate(file)).isEqualTo(first);
        try (var listing = Files.list(file.getParent())) {
            assertThat(listing).containsExactly(file);  // no temporary file left behind
        }
    }

    @Test
    void existingIdIsUsedWithSurroundingWhitespace() throws Exception {
        Path file = dir.resolve("node-id");
        Files.writeString(file, "  " + "k".repeat(26) + "\r\n", StandardCharsets.US_ASCII);
        assertThat(NodeId.loadOrCreate(file)).isEqualTo("k".repeat(26));
    }

    @Test
    void corruptIdFileIsAClearErrorNotASilentNewId() throws Exception {
        Path file = dir.resolve("node-id");
        Files.writeString(file, "not-an-id");
        assertThatThrownBy(() -> NodeId.loadOrCreate(file))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("valid id");
        assertThat(Files.readString(file)).isEqualTo("not-an-id");
    }

    @Test
    void oversizedIdFileIsRejectedWithoutReadingIt() throws Exception {
        Path file = dir.resolve("node-id");
        Files.write(file, new byte[1 << 20]);
        assertThatThrownBy(() -> NodeId.loadOrCreate(file))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("larger than");
    }
}
