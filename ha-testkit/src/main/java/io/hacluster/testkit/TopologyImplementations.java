package io.hacluster.testkit;

import java.lang.reflect.InvocationTargetException;

/**
 * Starts the Testcontainers implementation by reflection, so that the testkit loads and runs
 * without Testcontainers on the classpath (it is a provided dependency) unless it is chosen.
 */
final class TopologyImplementations {

    private static final String TESTCONTAINERS_CLASS = "io.hacluster.testkit.TestcontainersPostgresTopology";

    private TopologyImplementations() {}

    static PostgresTopology startTestcontainers(int replicas) {
        try {
            Class.forName("org.testcontainers.containers.PostgreSQLContainer", false,
                    TopologyImplementations.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new PostgresTestkitException(PostgresTopology.IMPLEMENTATION_PROPERTY + "=testcontainers needs "
                    + "org.testcontainers:postgresql on the test classpath (ha-testkit declares it 'provided')", e);
        }
        try {
            return (PostgresTopology) Class.forName(TESTCONTAINERS_CLASS)
                    .getDeclaredMethod("start", int.class)
                    .invoke(null, replicas);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtimeException) {
                throw runtimeException;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new PostgresTestkitException("Cannot start the Testcontainers topology: " + cause, cause);
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new PostgresTestkitException("Cannot load the Testcontainers topology: " + e, e);
        }
    }
}
