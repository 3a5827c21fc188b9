package io.hacluster.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ConsistencyTokenTest {

    @Test
    void roundTripsPostgresLsnText() {
        ConsistencyToken t = ConsistencyToken.parse("16/B374D848");
        assertThat(t.walPosition()).isEqualTo(0x16B374D848L);
        assertThat(t.asString()).isEqualTo("16/B374D848");
        assertThat(ConsistencyToken.parse("0/0").asString()).isEqualTo("0/0");
        assertThat(ConsistencyToken.parse("FFFFFFFF/FFFFFFFF").asString()).isEqualTo("FFFFFFFF/FFFFFFFF")
                .hasSizeLessThanOrEqualTo(17);
    }

    @Test
    void coveredByComparesUnsigned() {
        ConsistencyToken t = ConsistencyToken.parse("1/0");
        assertThat(t.coveredBy(Lsn.parse("1/0"))).isTrue();
        assertThat(t.coveredBy(Lsn.parse("0/FFFFFFFF"))).isFalse();
        assertThat(ConsistencyToken.parse("80000000/0").coveredBy(Lsn.parse("7FFFFFFF/0"))).isFalse();
        assertThat(ConsistencyToken.parse("7FFFFFFF/0").coveredBy(Lsn.parse("80000000/0"))).isTrue();
    }

    @Test
    void rejectsGarbage() {
        for (String bad : new String[] {"", "16", "/1", "1/", "x/1", "123456789/0", "1/2/3", "-1/0"}) {
            assertThatThrownBy(() -> ConsistencyToken.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> ConsistencyToken.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void distanceIsZeroWhenAhead() {
        assertThat(Lsn.distance(100, 40)).isEqualTo(60);
        assertThat(Lsn.distance(40, 100)).isZero();
    }
}
