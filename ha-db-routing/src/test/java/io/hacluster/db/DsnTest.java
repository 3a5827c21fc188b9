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
        // An input that does not parse is not quoted at all (not even masked): the masker cannot
        // know where the password of a malformed DSN is.
        assertThatThrownBy(() -> Dsn.parse(bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid PostgreSQL DSN: ")
                .hasMessageNotContaining("hunter2")
                .hasMessageNotContaining("u:")
                .hasNoCause();
    }

    @Test
    void emptyAndNullAreClearErrors() {
        assertThatThrownBy(() -> Dsn.parse("")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> Dsn.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void jdbcUrlWithUserInfoIsRejectedInsteadOfTakingItForTheHost() {
        assertThatThrownBy(() -> Dsn.parse("jdbc:postgresql://u:pw0rd@host/db"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot carry user:password@")
                .hasMessageNotContaining("pw0rd");
    }

    @Test
    void credentialParametersInAnyCaseAreCredentials() {
        Dsn dsn = Dsn.parse("jdbc:postgresql://h/db?USER=alice&PASSWORD=pw0rd&ssl=true");
        assertThat(dsn.user()).isEqualTo("alice");
        assertThat(dsn.password()).isEqualTo("pw0rd");
        assertThat(dsn.params()).containsExactly(Map.entry("ssl", "true"));
        assertThat(dsn.jdbcUrl()).doesNotContain("pw0rd");
        assertThat(dsn.masked()).isEqualTo("jdbc:postgresql://h/db?USER=alice&PASSWORD=****&ssl=true");
    }

    @Test
    void otherSecretParametersAreMaskedButPassedToTheDriver() {
        Dsn dsn = Dsn.parse("postgres://u:p@h/db?sslpassword=keypass&sslmode=require");
        assertThat(dsn.params()).containsEntry("sslpassword", "keypass");
        assertThat(dsn.masked()).isEqualTo("postgres://u:****@h/db?sslpassword=****&sslmode=require");
    }

    @Test
    void mysqlAndKeyValueFormsGetAHintWithoutTheInput() {
        assertThatThrownBy(() -> Dsn.parse("mm:pw0rd@tcp(db:3306)/mattermost?charset=utf8mb4"))
                .hasMessage("invalid PostgreSQL DSN: this is a MySQL DSN; only PostgreSQL is supported "
                        + "(postgres://user:password@host:5432/db)");
        assertThatThrownBy(() -> Dsn.parse("host=db user=mm password = pw0rd"))
                .hasMessageContaining("key/value connection strings").hasMessageNotContaining("pw0rd");
        assertThatThrownBy(() -> Dsn.parse("postgres//mm:pw0rd@db/x"))
                .hasMessageContaining("with both slashes").hasMessageNotContaining("pw0rd");
    }

    /** A secret no message, name or printed form may contain; letters only, so nothing splits it. */
    private static final String MARKER = "QzxMarkerSecretq";

    /** DSN shapes operators write, right and wrong, each with {@link #MARKER} where a secret goes. */
    @ParameterizedTest
    @ValueSource(strings = {
            // malformed schemes and foreign forms
            "postgres//mm:MARK@127.0.0.1:5432/db",
            "postgres:/mm:MARK@127.0.0.1:5432/db",
            "postgres:mm:MARK@127.0.0.1:5432/db",
            "postgres:mm@MARK@127.0.0.1:5432/db",
            "postgress://mm:MARK@127.0.0.1:5432/db",
            "mm:MARK@tcp(127.0.0.1:3306)/mattermost?charset=utf8mb4,utf8&readTimeout=30s",
            "mysql://mm:MARK@db:3306/mattermost",
            "host=db port=5432 user=mm password = MARK dbname=mattermost",
            "host=db user=mm password='MARK with spaces' dbname=mattermost",
            "password=MARK",
            "PASSWORD: MARK",
            "jdbc:postgresql://mm:MARK@host/db",
            "jdbc:postgresql://mm:MARK@host:5432/db?ssl=true",
            "jdbc:postgres://h/db?password=MARK",
            // postgres URLs that do not parse
            "postgres://u:MARK@h:notaport/db",
            "postgres://u:MARK@h:70000/db",
            "postgres://u:MARK@/db",
            "postgres://u:MARK@h1,h2/db",
            "postgres://u:MARK@h/db?x=%zz",
            "postgres://u:MARK@[::1/db",
            "postgres://u:MARK@[::1]x/db",
            "postgres://u:MARK@h/db/extra",
            "postgres://u:MARK@ h/db",
            "postgres://u:MARK@h:5432:6543/db",
            "postgres://u:MARK/x@h/db",
            "postgres://u:x/MARK@h/db",
            "postgres://u:MARK?x@h/db",
            "postgres://u:MARK%zz@h/db",
            "postgres://h/db?password=MARK&password=again",
            "postgres://u:first@h/db?password=MARK",
            "jdbc:postgresql://h:0/db?user=u&password=MARK",
            "jdbc:postgresql://h:x/db?Password=MARK&ssl=true",
            "postgres://u:MARK@h:bad/db?password=MARK",
            // well-formed
            "postgres://u:MARK@h/db",
            "postgres://u:MARK@h:5432/db?sslmode=disable&connect_timeout=10",
            "postgresql://u:MARK@h/db",
            "POSTGRES://u:MARK@h/db",
            "postgres://:MARK@h/db",
            "postgres://u:pa@MARK@h:5432/db",
            "postgres://u:MARK@@h/db",
            "postgres://u:MARK%2F%3F%40x@h/db",
            "postgres://u:MARK@h/db?application_name=ops@site",
            "postgres://u:MARK@[::1]:5439/db",
            "  postgres://u:MARK@h/db  ",
            "postgres://h/db?user=u&password=MARK",
            "postgres://h/db?user=u&PASSWORD=MARK",
            "jdbc:postgresql://h/db?user=u&password=MARK",
            "jdbc:postgresql://h/db?PASSWORD=MARK&ssl=true",
            "jdbc:postgresql://h:6432/db?user=u&Password=MARK",
            "postgres://u:p@h/db?sslpassword=MARK",
    })
    void noShapeLeaksItsSecret(String shape) {
        String text = shape.replace("MARK", MARKER);
        assertThat(Dsn.mask(text)).as("Dsn.mask").doesNotContain(MARKER);
        Dsn dsn;
        try {
            dsn = Dsn.parse(text);
        } catch (IllegalArgumentException e) {
            assertNoMarker(e);
            assertThat(e.getMessage()).startsWith("invalid PostgreSQL DSN: ");
            return;
        }
        assertThat(dsn.masked()).as("masked").doesNotContain(MARKER).contains("****");
        assertThat(dsn.toString()).as("toString").doesNotContain(MARKER);
        // label() names pools and threads: a plain host, a port and a database, nothing else.
        assertThat(dsn.label()).as("label").doesNotContain(MARKER).matches("(\\[[0-9a-fA-F:.%]+\\]|[A-Za-z0-9._-]+):\\d+/.*");
        if (!shape.contains("sslpassword")) {
            assertThat(dsn.jdbcUrl()).as("jdbcUrl").doesNotContain(MARKER);
            assertThat(dsn.params()).as("params").doesNotContainValue(MARKER);
        }
    }

    private static void assertNoMarker(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).as("message").doesNotContain(MARKER);
            assertThat(t.toString()).as("toString").doesNotContain(MARKER);
            for (Throwable suppressed : t.getSuppressed()) {
                assertNoMarker(suppressed);
            }
        }
        java.io.StringWriter trace = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(trace));
        assertThat(trace.toString()).as("stack trace").doesNotContain(MARKER);
    }

    @Test
    void maskWorksOnUnparseableText() {
        assertThat(Dsn.mask("connect to postgres://u:pw@h failed")).isEqualTo("connect to postgres://u:****@h failed");
        assertThat(Dsn.mask("x?Password=abc&y=1")).isEqualTo("x?Password=****&y=1");
        assertThat(Dsn.mask("no secrets here")).isEqualTo("no secrets here");
        assertThat(Dsn.mask("postgres//mm:pw@h/db")).isEqualTo("postgres//mm:****@h/db");
        assertThat(Dsn.mask("postgres:/mm:pw@h/db")).isEqualTo("postgres:/mm:****@h/db");
        assertThat(Dsn.mask("postgres:mm:pw@h/db")).isEqualTo("postgres:****@h/db");
        assertThat(Dsn.mask("mm:pw@tcp(h:3306)/db")).isEqualTo("mm:****@tcp(h:3306)/db");
        assertThat(Dsn.mask("jdbc:postgresql://h/db?PASSWORD=pw&ssl=1")).isEqualTo("jdbc:postgresql://h/db?PASSWORD=****&ssl=1");
        assertThat(Dsn.mask("host=h password = pw user=u")).isEqualTo("host=h password = **** user=u");
        assertThat(Dsn.mask("{\"Password\": \"p w\"}")).isEqualTo("{\"Password\": \"****\"}");
        assertThat(Dsn.mask("postgres://h:5432/db?sslmode=disable")).isEqualTo("postgres://h:5432/db?sslmode=disable");
        assertThat(Dsn.mask("postgres://u:p@h:5432/db?application_name=ops@site"))
                .isEqualTo("postgres://u:****@h:5432/db?application_name=ops@site");
    }
}
