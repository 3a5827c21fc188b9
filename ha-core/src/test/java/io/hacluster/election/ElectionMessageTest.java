package io.hacluster.election;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ElectionMessageTest {

    @Test
    void everyKindRoundTrips() {
        LeaderInfo leader = new LeaderInfo("e0000000000000000000000002", 7, 42, Instant.ofEpochMilli(1_700_000_000_123L));
        for (ElectionMessage m : new ElectionMessage[] {ElectionMessage.election(5), ElectionMessage.answer(6),
                ElectionMessage.resign(8), ElectionMessage.coordinator(leader)}) {
            assertThat(ElectionMessage.decode(m.encode())).isEqualTo(m);
        }
        ElectionMessage c = ElectionMessage.decode(ElectionMessage.coordinator(leader).encode());
        assertThat(new LeaderInfo(c.leaderId(), c.epoch(), c.fencingToken(), Instant.ofEpochMilli(c.sinceMillis())))
                .isEqualTo(leader);
    }

    @Test
    void malformedInputIsRejectedClearly() {
        byte[] bytes = ElectionMessage.coordinator(new LeaderInfo("n1", 1, 1, Instant.EPOCH)).encode();
        for (int len = 0; len < bytes.length; len++) {
            byte[] cut = Arrays.copyOf(bytes, len);
            assertThatThrownBy(() -> ElectionMessage.decode(cut)).isInstanceOf(IllegalArgumentException.class);
        }
        byte[] badKind = bytes.clone();
        badKind[1] = 9;
        assertThatThrownBy(() -> ElectionMessage.decode(badKind)).hasMessageContaining("kind");
        byte[] badFormat = bytes.clone();
        badFormat[0] = 2;
        assertThatThrownBy(() -> ElectionMessage.decode(badFormat)).hasMessageContaining("format");
        byte[] negativeEpoch = ElectionMessage.election(-1).encode();
        assertThatThrownBy(() -> ElectionMessage.decode(negativeEpoch)).hasMessageContaining("negative");
    }
}
