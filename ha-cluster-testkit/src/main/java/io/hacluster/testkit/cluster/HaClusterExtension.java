package io.hacluster.testkit.cluster;

import io.hacluster.ClusterNode;
import io.hacluster.ClusterNodeBuilder;
import io.hacluster.testkit.PostgresTopology;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.commons.support.ReflectionSupport;

/**
 * JUnit 5 extension behind {@link HaClusterTest}: resolves {@link TestCluster} parameters.
 *
 * <p>The cluster lives in the test method's extension store and the PostgreSQL topology in the
 * test class's; JUnit closes both ({@link AutoCloseable}) when the method, respectively the
 * class, is done, whether it passed or failed. A cluster that fails to start closes what it
 * started before the failure is reported.
 */
public final class HaClusterExtension implements ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(HaClusterExtension.class);

    /** Created by JUnit. */
    public HaClusterExtension() {}

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == TestCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        if (context.getTestMethod().isEmpty()) {
            throw new ParameterResolutionException("A TestCluster is made per test: take it as a parameter of a "
                    + "test method or a @BeforeEach method, not of a constructor or @BeforeAll method");
        }
        Class<?> testClass = context.getRequiredTestClass();
        HaClusterTest spec = AnnotationSupport.findAnnotation(testClass, HaClusterTest.class)
                .orElseThrow(() -> new ParameterResolutionException(testClass.getName()
                        + " needs @HaClusterTest to receive a TestCluster"));
        if (spec.nodes() < 1 || spec.replicas() < 0 || spec.awaitSeconds() < 1) {
            throw new ParameterResolutionException("@HaClusterTest on " + testClass.getName()
                    + ": nodes must be 1 or more, replicas 0 or more, awaitSeconds 1 or more");
        }
        if (!spec.staticSeeds() && !spec.database()) {
            throw new ParameterResolutionException("@HaClusterTest(staticSeeds = false) on " + testClass.getName()
                    + " needs database = true: without seeds the nodes find each other through the discovery table");
        }
        NodeCustomizer customizer = customizer(testClass, spec.customizer());
        return context.getStore(NAMESPACE).getOrComputeIfAbsent(TestCluster.class, key -> {
            TestCluster.Builder builder = TestCluster.builder()
                    .nodes(spec.nodes())
                    .customizer(customizer)
                    .awaitTimeout(Duration.ofSeconds(spec.awaitSeconds()))
                    .staticSeeds(spec.staticSeeds());
            if (spec.database()) {
                builder.database(topology(context, testClass, spec.replicas()));
            }
            return builder.start();
        }, TestCluster.class);
    }

    /** One topology per test class, closed by JUnit after the class. */
    private static PostgresTopology topology(ExtensionContext context, Class<?> testClass, int replicas) {
        ExtensionContext classContext = context.getParent().orElse(context);
        while (classContext.getTestMethod().isPresent() && classContext.getParent().isPresent()) {
            classContext = classContext.getParent().get();
        }
        return classContext.getStore(NAMESPACE).getOrComputeIfAbsent(testClass.getName() + "#topology",
                key -> PostgresTopology.start(replicas), PostgresTopology.class);
    }

    private static NodeCustomizer customizer(Class<?> testClass, String name) {
        if (name.isEmpty()) {
            return NodeCustomizer.none();
        }
        Optional<Method> onBuilder = staticMethod(testClass, name, ClusterNodeBuilder.class);
        Optional<Method> onNode = staticMethod(testClass, name, ClusterNode.class);
        if (onBuilder.isEmpty() && onNode.isEmpty()) {
            throw new ParameterResolutionException("@HaClusterTest(customizer = \"" + name + "\"): "
                    + testClass.getName() + " has no static method " + name
                    + "(int, ClusterNodeBuilder) or " + name + "(int, ClusterNode)");
        }
        return new NodeCustomizer() {
            @Override
            public void customize(int index, ClusterNodeBuilder builder) {
                onBuilder.ifPresent(m -> call(m, index, builder));
            }

            @Override
            public void beforeStart(int index, ClusterNode node) {
                onNode.ifPresent(m -> call(m, index, node));
            }
        };
    }

    private static Optional<Method> staticMethod(Class<?> testClass, String name, Class<?> second) {
        Optional<Method> found = ReflectionSupport.findMethod(testClass, name, int.class, second);
        found.ifPresent(m -> {
            if (!Modifier.isStatic(m.getModifiers())) {
                throw new ParameterResolutionException("@HaClusterTest(customizer = \"" + name + "\"): "
                        + m + " must be static");
            }
            m.setAccessible(true);
        });
        return found;
    }

    private static void call(Method method, int index, Object argument) {
        try {
            method.invoke(null, index, argument);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("customizer " + method.getName() + " failed for node-" + index, cause);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("customizer " + method.getName() + " is not accessible", e);
        }
    }
}
