package io.hacluster.db;

import java.sql.SQLException;

/** Work run inside a {@link DatabaseRouter#readOnly(SqlSupplier)} scope. */
@FunctionalInterface
public interface SqlSupplier<T> {
    T get() throws SQLException;
}
