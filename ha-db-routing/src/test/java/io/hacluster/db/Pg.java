package io.hacluster.db;

import io.hacluster.testkit.PostgresServer;
import io.hacluster.testkit.PostgresTopology;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/** Test helpers around the testkit's PostgreSQL topology. */
final class Pg {

    private Pg() {
    }

    static Dsn dsn(PostgresServer server) {
        return Dsn.parse(server.dsn());
    }

    /** Small pools and a fast monitor, for tests on a loaded 2-core machine. */
    static RouterSettings.Builder settings(PostgresTopology pg) {
        List<PostgresServer> replicas = pg.replicas();
        return RouterSettings.builder(dsn(pg.primary()))
                .name("test")
                .replicas(replicas.stream().map(Pg::dsn).toList())
                .maxOpenConns(6)
                .maxIdleConns(1)
                .monitorIntervalSeconds(1)
                .connectionTimeoutMillis(3_000)
                .healthCheckTimeoutMillis(2_000)
                .queryTimeoutSeconds(10)
                .drainTimeoutMillis(10_000);
    }

    /** The port of the server a connection is on: identifies the server in the topology. */
    static int port(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }


    static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    static long count(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static ServerStatus status(DatabaseRouter router, PostgresServer server) throws SQLException {
        String label = dsn(server).label();
        return router.servers().stream().filter(s -> s.server().equals(label)).findFirst().orElseThrow();
    }
}
