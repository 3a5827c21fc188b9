package io.hacluster.db;

import java.sql.Connection;
import java.sql.SQLException;

/** Work done on one borrowed connection; the router closes the connection afterwards. */
@FunctionalInterface
public interface SqlFunction<T> {
    T apply(Connection connection) throws SQLException;
}
