package io.hacluster.discovery;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Opens a connection to the master database, where the discovery table lives (Mattermost sends
 * every discovery query to the master). The caller closes the connection.
 */
@FunctionalInterface
public interface ConnectionSource {

    Connection open() throws SQLException;
}
