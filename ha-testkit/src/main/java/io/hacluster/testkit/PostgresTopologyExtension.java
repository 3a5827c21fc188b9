package io.hacluster.testkit;

import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * JUnit 5 extension behind {@link PostgresTopologyTest}: resolves {@link PostgresTopology}
 * parameters with one topology per test class. The topology lives in the class-level extension
 * store, which JUnit closes (it is {@link AutoCloseable}) when the class is done, whether its
 * tests passed or not.
 *
 * <p>Can also be used with {@code @ExtendWith(PostgresTopologyExtension.class)} alone; the class
 * then gets one replica.
 */
public final class PostgresTopologyExtension implements ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(PostgresTopologyExtension.class);

    /** Created by JUnit. */
    public PostgresTopologyExtension() {}

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == PostgresTopology.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        ExtensionContext classContext = classContext(context);
        Class<?> testClass = classContext.getRequiredTestClass();
        int replicas = replicasFor(testClass);
        if (replicas < 0) {
            throw new ParameterResolutionException("@PostgresTopologyTest(replicas = " + replicas + ") on "
                    + testClass.getName() + ": replicas must be 0 or more");
        }
        return classContext.getStore(NAMESPACE).getOrComputeIfAbsent(testClass,
                key -> PostgresTopology.start(replicas), PostgresTopology.class);
    }

    /** The context of the outermost test class that carries the annotation, else of the test class itself. */
    private static ExtensionContext classContext(ExtensionContext context) {
        ExtensionContext found = null;
        for (Optional<ExtensionContext> current = Optional.of(context); current.isPresent();
                current = current.get().getParent()) {
            ExtensionContext candidate = current.get();
            if (candidate.getTestMethod().isEmpty() && candidate.getTestClass().isPresent()) {
                if (found == null || AnnotationSupport.isAnnotated(candidate.getTestClass().get(),
                        PostgresTopologyTest.class)) {
                    found = candidate;
                }
            }
        }
        if (found == null) {
            throw new ParameterResolutionException("A PostgresTopology parameter needs a test class");
        }
        return found;
    }

    private static int replicasFor(Class<?> testClass) {
        return AnnotationSupport.findAnnotation(testClass, PostgresTopologyTest.class)
                .map(PostgresTopologyTest::replicas)
                .orElse(1);
    }
}
