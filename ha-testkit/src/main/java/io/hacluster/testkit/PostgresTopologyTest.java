package io.hacluster.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives a test class a real PostgreSQL topology: a {@link PostgresTopology} parameter of the
 * test class constructor, of {@code @BeforeAll}/{@code @BeforeEach} methods or of test methods
 * receives it. One topology per test class, started on first use and closed after the class.
 *
 * <pre>{@code
 * @PostgresTopologyTest(replicas = 2)
 * class RoutingIT {
 *     @Test
 *     void readsFromReplica(PostgresTopology pg) { ... }
 * }
 * }</pre>
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ExtendWith(PostgresTopologyExtension.class)
public @interface PostgresTopologyTest {

    /** Number of streaming hot-standby replicas next to the primary. */
    int replicas() default 1;
}
