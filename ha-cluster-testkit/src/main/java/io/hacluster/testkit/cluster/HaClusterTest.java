package io.hacluster.testkit.cluster;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives each test of a class a running cluster of {@code ClusterNode}s in the test's JVM: a
 * {@link TestCluster} parameter of a test method or of a {@code @BeforeEach} method receives it.
 *
 * <p>Each test gets a new cluster (new cluster name, new nodes, converged before the test runs),
 * closed after the test whether it passed or failed. With {@link #database()}, the class shares
 * one PostgreSQL topology (primary + {@link #replicas()} streaming replicas, started through
 * ha-testkit), closed after the class; the nodes use it for the discovery table, the leader
 * lease and the database router.
 *
 * <pre>{@code
 * @HaClusterTest(nodes = 3, database = true, replicas = 1, customizer = "handlers")
 * class CacheIT {
 *     static void handlers(int index, ClusterNode node) { node.registerHandler("evict", ...); }
 *
 *     @Test
 *     void survivesACrash(TestCluster cluster) { cluster.crash(2); ... }
 * }
 * }</pre>
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ExtendWith(HaClusterExtension.class)
public @interface HaClusterTest {

    /** Number of nodes, 1 or more. */
    int nodes() default 3;

    /** Whether to start a PostgreSQL topology and give every node its {@code SqlSettings}. */
    boolean database() default false;

    /** Streaming replicas next to the primary, when {@link #database()} is true. */
    int replicas() default 0;

    /**
     * Name of a static method of the test class, called for every node before each start (see
     * {@link NodeCustomizer}): {@code (int index, ClusterNodeBuilder builder)} to change settings,
     * or {@code (int index, ClusterNode node)} to register handlers on the built node before it
     * starts; the class may declare both under this name. Empty for none.
     */
    String customizer() default "";

    /**
     * Whether every node gets every node's gossip address as a static seed; false: the nodes find
     * each other through the discovery table alone (needs {@link #database()}).
     */
    boolean staticSeeds() default true;

    /** Bound of the start-up convergence and of every {@code await...} without a timeout, in seconds. */
    int awaitSeconds() default 30;
}
