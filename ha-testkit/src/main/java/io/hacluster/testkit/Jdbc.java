package io.hacluster.testkit;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import org.postgresql.Driver;

/** Opens PgJDBC connections without relying on DriverManager's service loading. */
final class Jdbc {

    private static final Driver DRIVER = new Driver();

    private Jdbc() {}

    static String url(int port, String database) {
        return url("127.0.0.1", port, database);
    }

    static String url(String host, int port, String database) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database + "?sslmode=disable&connectTimeout=10";
    }

    static Connection connect(String url, String user, String password) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", password);
        properties.setProperty("ApplicationName", "ha-testkit");
        Connection connection = DRIVER.connect(url, properties);
        if (connection == null) {
            throw new SQLException("PgJDBC does not accept the URL " + url);
        }
        return connection;
    }
}
