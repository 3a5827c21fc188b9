package io.hacluster;

import io.hacluster.discovery.ConnectionSource;
import io.hacluster.testkit.PostgresServer;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One node's lease connections for trials: direct connections to the primary, each with the
 * application name given (so the test can {@code pg_terminate_backend} them), that the test can
 * cut off (every open fails), and that record when the connection of the last statement that
 * succeeded was opened.
 *
 * <p>That time bounds the holder's deadline from above: {@code LeaseHolder} reads its clock
 * before it opens the connection, and the database starts the lease after the statement began, so
 * a holder whose last successful renewal used a connection opened at {@code t} must stop leading
 * by {@code t + renewDeadline}, and the database cannot expire that lease before
 * {@code t + leaseDuration}.
 */
final class TrackedLeaseConnections implements ConnectionSource {

    private final PostgresServer server;
    private final String applicationName;
    private volatile boolean cut;
    private final AtomicLong lastSuccessOpenedAt = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong successes = new AtomicLong();

    TrackedLeaseConnections(PostgresServer server, String applicationName) {
        this.server = server;
        this.applicationName = applicationName;
    }

    /** From now on every open fails (SQLState 08001), as if this node's network to the database were down. */
    void cut() {
        cut = true;
    }

    /** Opens work again. */
    void restore() {
        cut = false;
    }

    /** {@code System.nanoTime()} at the open of the connection of the latest successful statement. */
    long lastSuccessOpenedAt() {
        return lastSuccessOpenedAt.get();
    }

    /** How many statements succeeded. */
    long successes() {
        return successes.get();
    }

    String applicationName() {
        return applicationName;
    }

    @Override
    public Connection open() throws SQLException {
        long openedAt = System.nanoTime();
        if (cut) {
            throw new SQLException("the test cut this node off the lease database", "08001");
        }
        Properties p = new Properties();
        p.setProperty("user", server.user());
        p.setProperty("password", server.password());
        p.setProperty("ApplicationName", applicationName);
        Connection c = DriverManager.getConnection(server.jdbcUrl(), p);
        return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                new Forward(c, (proxy, method, target) -> {
                    if (method.getName().equals("prepareStatement")) {
                        PreparedStatement ps = (PreparedStatement) target;
                        return Proxy.newProxyInstance(getClass().getClassLoader(),
                                new Class<?>[] {PreparedStatement.class}, new Forward(ps, (p2, m2, result) -> {
                                    if (m2.getName().startsWith("execute")) {
                                        lastSuccessOpenedAt.accumulateAndGet(openedAt, Math::max);
                                        successes.incrementAndGet();
                                    }
                                    return result;
                                }));
                    }
                    return target;
                }));
    }

    /** What to do with a call's result once it returned normally. */
    @FunctionalInterface
    private interface After {
        Object apply(Object proxy, Method method, Object result);
    }

    private record Forward(Object target, After after) implements InvocationHandler {
        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            Object result;
            try {
                result = method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            return after.apply(proxy, method, result);
        }
    }
}
