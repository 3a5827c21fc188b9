package io.hacluster.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Which running server a connection reached: the postmaster's start time, which is unique per
 * server start (microsecond resolution) and readable by every role. Another standby behind the
 * same address, a re-cloned or restarted replica, or another member behind a load-balanced
 * endpoint each has its own. A replay position is only trusted for connections to the
 * incarnation it was measured on.
 *
 * @param postmasterStartTime {@code pg_postmaster_start_time()} as text
 */
record ServerIncarnation(String postmasterStartTime) {

    static final String QUERY_EXPRESSION = "pg_postmaster_start_time()::text";

    /** One round trip; for a connection being opened, never on the borrow path. */
    static ServerIncarnation of(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("SELECT " + QUERY_EXPRESSION)) {
            rs.next();
            return new ServerIncarnation(rs.getString(1));
        }
    }
}
