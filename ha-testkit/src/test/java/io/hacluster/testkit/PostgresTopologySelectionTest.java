package io.hacluster.testkit;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PostgresTopologySelectionTest {

    @Test
    void unknownImplementationIsRejectedWithTheChoices() {
        String previous = System.getProperty(PostgresTopology.IMPLEMENTATION_PROPERTY);
        System.setProperty(PostgresTopology.IMPLEMENTATION_PROPERTY, "podman");
        try {
            assertThatThrownBy(() -> PostgresTopology.start(1))
                    .isInstanceOf(PostgresTestkitException.class)
                    .hasMessageContaining("podman")
                    .hasMessageContaining("embedded")
                    .hasMessageContaining("testcontainers");
        } finally {
            if (previous == null) {
                System.clearProperty(PostgresTopology.IMPLEMENTATION_PROPERTY);
            } else {
                System.setProperty(PostgresTopology.IMPLEMENTATION_PROPERTY, previous);
            }
        }
    }

    @Test
    void negativeReplicaCountIsRejected() {
        assertThatThrownBy(() -> PostgresTopology.start(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
