package io.hacluster.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DsnTest {

    @Test
    void parsesMattermostDsn() {
        Dsn dsn = Dsn.parse("postgres://mmuser:s3cret@db1.example.com:5433/mattermost?sslmode=disable&connect_timeout=10");
        assertThat(dsn.host()).isEqualTo("db1.example.com");
        assertThat(dsn.port()).isEqualTo(5433);
        assertThat(dsn.database()).isEqualTo("mattermost");
        assertThat(dsn.user()).isEqualTo("mmuser");
        assertThat(dsn.password()).isEqualTo("s3cret");
        assertThat(dsn.params()).containsExactly(Map.entry("sslmode", "disable"), Map.entry("connect_timeout", "10"));
        assertThat(dsn.jdbcUrl())
                .isEqualTo("jdbc:postgresql://db1.example.com:5433/mattermost?sslmode=disable&connectTimeout=10");
        assertThat(dsn.masked())
                .isEqualTo("postgres://mmuser:****@db1.example.com:5433/mattermost?sslmode=disable&connect_timeout=10");
        assertThat(dsn.toString()).isEqualTo(dsn.masked()).doesNotContain("s3cret");
        assertThat(dsn.label()).isEqualTo("db1.example.com:5433/mattermost");
    }

    @Test
    void postgresqlSchemeAndDefaultPort() {
        Dsn dsn = Dsn.parse("postgresql://u:p@localhost/db");
        assertThat(dsn.port()).isEqualTo(5432);
        assertThat(dsn.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:5432/db");
        assertThat(dsn.params()).isEmpty();
    }

    @Test
    void decodesPercentEncodedCredentialsAndKeepsPlus() {
        Dsn dsn = Dsn.parse("postgres://us%40er:p%40ss%3Aw%2Frd+x@h:1/d%20b");
        assertThat(dsn.user()).isEqualTo("us@er");
        assertThat(dsn.password()).isEqualTo("p@ss:w/rd+x");
        assertThat(dsn.database()).isEqualTo("d b");
        assertThat(dsn.jdbcUrl()).isEqualTo("jdbc:postgresql://h:1/d%20b");
        assertThat(dsn.masked()).isEqualTo("postgres://us%40er:****@h:1/d%20b");
    }

    @Test
    void unencodedAtInPasswordUsesLastAt() {
        Dsn dsn = Dsn.parse("postgres://u:pa@ss@h:5432/db");
        assertThat(dsn.password()).isEqualTo("pa@ss");
        assertThat(dsn.host()).isEqualTo("h");
        assertThat(dsn.masked()).isEqualTo("postgres://u:****@h:5432/db");
    }

    @Test
    void atSignInTheQueryIsNotUserInfo() {
        Dsn dsn = Dsn.parse("postgres://u:p@h:5432/db?application_name=ops@site");
        assertThat(dsn.host()).isEqualTo("h");
        assertThat(dsn.password()).isEqualTo("p");
        assertThat(dsn.params()).containsEntry("application_name", "ops@site");
        assertThat(Dsn.parse("postgres://h/db?application_name=a@b").user()).isEmpty();
    }

    @Test
    void unencodedSlashInPasswordIsAnErrorThatStillMasksIt() {
        assertThatThrownBy(() -> Dsn.parse("postgres://u:pa/ss@h/db"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("pa/ss");
    }

    @Test
    void parsesJdbcUrlWithCredentialParams() {
        Dsn dsn = Dsn.parse("jdbc:postgresql://10.0.0.5:6432/app?user=alice&password=top%26secret&ssl=true");
        assertThat(dsn.host()).isEqualTo("10.0.0.5");
        assertThat(dsn.port()).isEqualTo(6432);
        assertThat(dsn.user()).isEqualTo("alice");
        assertThat(dsn.password()).isEqualTo("top&secret");
        assertThat(dsn.params()).containsExactly(Map.entry("ssl", "true"));
        assertThat(dsn.jdbcUrl()).isEqualTo("jdbc:postgresql://10.0.0.5:6432/app?ssl=true");
        assertThat(dsn.masked()).isEqualTo("jdbc:postgresql://10.0.0.5:6432/app?user=alice&password=****&ssl=true");
    }

    @Test
    void passwordAsQueryParameterOfUrlFormIsMaskedToo() {
        Dsn dsn = Dsn.parse("postgres://h/db?user=bob&password=xyz");
        assertThat(dsn.user()).isEqualTo("bob");
        assertThat(dsn.password()).isEqualTo("xyz");
        assertThat(dsn.masked()).isEqualTo("postgres://h/db?user=bob&password=****");
    }

    @Test
    void noCredentials() {
        Dsn dsn = Dsn.parse("postgres://h:5432/db");
        assertThat(dsn.user()).isEmpty();
        assertThat(dsn.password()).isEmpty();
        assertThat(dsn.masked()).isEqualTo("postgres://h:5432/db");
    }

    @Test
    void ipv6Host() {
        Dsn dsn = Dsn.parse("postgres://u:p@[::1]:5439/db");
        assertThat(dsn.host()).isEqualTo("::1");
        assertThat(dsn.port()).isEqualTo(5439);
        assertThat(dsn.jdbcUrl()).isEqualTo("jdbc:postgresql://[::1]:5439/db");
    }

    @Test
    void sameServerInBothFormsIsEqual() {
        Dsn a = Dsn.parse("postgres://u:p@h:5432/db");
        Dsn b = Dsn.parse("jdbc:postgresql://h/db?user=u&password=p");
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(Dsn.parse("postgres://u:other@h:5432/db"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "mysql://u:hunter2@h/db",
            "postgres://u:hunter2@h:notaport/db",
            "postgres://u:hunter2@h:70000/db",
            "postgres://u:hunter2@/db",
            "postgres://u:hunter2@h1,h2/db",
            "postgres://u:hunter2@h/db?x=%zz",
            "jdbc:postgresql://h:0/db?user=u&password=hunter2",
            "postgres://u:hunter2@[::1/db",
    })
    void parseErrorsNeverContainThePassword(String bad) {
        assertThatThrownBy(() -> Dsn.parse(bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("****")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void emptyAndNullAreClearErrors() {
        assertThatThrownBy(() -> Dsn.parse("")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> Dsn.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void maskWorksOnUnparseableText() {
        assertThat(Dsn.mask("connect to postgres://u:pw@h failed")).isEqualTo("connect to postgres://u:****@h failed");
        assertThat(Dsn.mask("x?Password=abc&y=1")).isEqualTo("x?Password=****&y=1");
        assertThat(Dsn.mask("no secrets here")).isEqualTo("no secrets here");
    }
}
