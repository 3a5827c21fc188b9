package io.hacluster.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

class SqlStatesTest {

    @Test
    void serverFailuresAreRecognised() {
        assertThat(SqlStates.isServerFailure(new SQLException("gone", "08006"))).isTrue();
        assertThat(SqlStates.isServerFailure(new SQLException("shutdown", "57P01"))).isTrue();
        assertThat(SqlStates.isServerFailure(new SQLTransientConnectionException("pool timeout"))).isTrue();
        assertThat(SqlStates.isServerFailure(new RuntimeException(new SQLException("x", "08001")))).isTrue();
    }

    @Test
    void statementErrorsAreNotServerFailures() {
        assertThat(SqlStates.isServerFailure(new SQLException("syntax", "42601"))).isFalse();
        assertThat(SqlStates.isServerFailure(new SQLException("timeout", "57014"))).isFalse();
        assertThat(SqlStates.isRetryableRead(new SQLException("dup", "23505"))).isFalse();
        assertThat(SqlStates.isRetryableRead(new SQLException("conflict with recovery", "40001"))).isTrue();
    }

    @Test
    void poolExhaustionIsNotUnreachability() {
        assertThat(SqlStates.isUnreachable(new SQLTransientConnectionException("request timed out"))).isFalse();
        assertThat(SqlStates.isUnreachable(new SQLTransientConnectionException("timed out", "08001",
                new SQLException("refused", "08001")))).isTrue();
        assertThat(SqlStates.isUnreachable(new SQLTransientConnectionException("timed out", null,
                new java.net.ConnectException("refused")))).isTrue();
    }

    @Test
    void timeoutsAreToldApartFromRefusals() {
        assertThat(SqlStates.isTimeout(new SQLException("Connection attempt timed out.", "08001"))).isTrue();
        assertThat(SqlStates.isTimeout(new SQLException("I/O error", "08006",
                new java.net.SocketTimeoutException("Read timed out")))).isTrue();
        assertThat(SqlStates.isTimeout(new SQLException("Connection to 127.0.0.1:5 refused", "08001",
                new java.net.ConnectException("Connection refused")))).isFalse();
    }

    @Test
    void refusedLoginsAreAuthenticationFailuresNotOutages() {
        SQLException wrongPassword = new SQLException("password authentication failed", "28P01");
        assertThat(SqlStates.authenticationFailureState(new SQLException("wrapped", "08001", wrongPassword)))
                .isEqualTo("28P01");
        assertThat(SqlStates.isAuthenticationFailure(new SQLException("no pg_hba.conf entry", "28000"))).isTrue();
        assertThat(SqlStates.isAuthenticationFailure(new SQLException("refused", "08001"))).isFalse();
        assertThat(SqlStates.isSessionRefused(wrongPassword)).isTrue();
        assertThat(SqlStates.isSessionRefused(new SQLException("too many clients", "53300"))).isTrue();
        assertThat(SqlStates.isSessionRefused(new SQLException("Connection attempt timed out.", "08001"))).isFalse();
    }

    @Test
    void describeMasksPasswords() {
        assertThat(SqlStates.describe(new SQLException("cannot reach postgres://u:pw@h/db", "08001")))
                .isEqualTo("08001 cannot reach postgres://u:****@h/db");
    }

    @Test
    void aLoginThatTimedOutIsDescribedAsTimedOut() {
        java.sql.SQLException login = new java.sql.SQLException("The connection attempt failed.", "08001",
                new java.net.SocketTimeoutException("Read timed out"));
        org.assertj.core.api.Assertions.assertThat(SqlStates.describe(login))
                .isEqualTo("08001 The connection attempt failed. (timed out)");
        java.sql.SQLException refused = new java.sql.SQLException("Connection to 127.0.0.1:1 refused.", "08001");
        org.assertj.core.api.Assertions.assertThat(SqlStates.describe(refused)).doesNotContain("timed out");
    }
}
