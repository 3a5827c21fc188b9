package io.hacluster.db;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.SQLException;

/** The invocation handler behind {@link RoutingDataSource}'s connections; see there. */
final class LazyConnection implements InvocationHandler {

    private final DatabaseRouter router;
    private final boolean readOnlyScopeAtOpen;
    private Connection target;
    private boolean closed;
    private Boolean readOnly;
    private Boolean autoCommit;
    private Integer isolation;

    LazyConnection(DatabaseRouter router, boolean readOnlyScopeAtOpen) {
        this.router = router;
        this.readOnlyScopeAtOpen = readOnlyScopeAtOpen;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        switch (name) {
            case "equals":
                return proxy == args[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            case "toString":
                return "RoutingConnection[" + (target == null ? (closed ? "closed" : "unbound") : target) + "]";
            case "isClosed":
                return closed;
            case "close":
                if (!closed) {
                    closed = true;
                    if (target != null) {
                        target.close();
                    }
                }
                return null;
            case "unwrap":
                if (((Class<?>) args[0]).isInstance(proxy)) {
                    return proxy;
                }
                break;
            case "isWrapperFor":
                if (((Class<?>) args[0]).isInstance(proxy)) {
                    return true;
                }
                break;
            default:
                break;
        }
        if (closed) {
            throw new SQLException("connection is closed", "08003");
        }
        if (target == null) {
            switch (name) {
                case "setReadOnly":
                    readOnly = (Boolean) args[0];
                    return null;
                case "isReadOnly":
                    return readOnly != null ? readOnly : wantsReplica();
                case "setAutoCommit":
                    autoCommit = (Boolean) args[0];
                    return null;
                case "getAutoCommit":
                    return autoCommit == null || autoCommit;
                case "setTransactionIsolation":
                    isolation = (Integer) args[0];
                    return null;
                case "getTransactionIsolation":
                    if (isolation != null) {
                        return isolation;
                    }
                    break;
                case "commit":
                case "rollback":
                case "clearWarnings":
                    return null;
                case "getWarnings":
                    return null;
                case "isValid":
                    return true;
                default:
                    break;
            }
            bind();
        }
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private boolean wantsReplica() {
        return Boolean.TRUE.equals(readOnly) || readOnlyScopeAtOpen || router.inReadOnlyScope();
    }

    private void bind() throws SQLException {
        Connection c = wantsReplica() ? router.replica() : router.master();
        try {
            if (autoCommit != null && c.getAutoCommit() != autoCommit) {
                c.setAutoCommit(autoCommit);
            }
            if (isolation != null) {
                c.setTransactionIsolation(isolation);
            }
            if (readOnly != null) {
                c.setReadOnly(readOnly);
            }
        } catch (SQLException | RuntimeException e) {
            try {
                c.close();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        target = c;
    }
}
