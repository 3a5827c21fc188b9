package io.hacluster.db;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One PostgreSQL server address with credentials, parsed from either form an operator writes:
 *
 * <ul>
 *   <li>Mattermost / libpq URL: {@code postgres://user:password@host:port/db?sslmode=disable&connect_timeout=10}
 *       (also {@code postgresql://}); user and password may be percent-encoded, the port defaults
 *       to 5432, {@code user} and {@code password} may also be given as query parameters.</li>
 *   <li>JDBC URL: {@code jdbc:postgresql://host:port/db?user=..&password=..}.</li>
 * </ul>
 *
 * <p>The password never leaves this object except through {@link #password()}: {@link #toString()}
 * is the {@link #masked()} form, and parse errors quote only the masked input.
 *
 * <p>Only one host per DSN: a multi-host libpq or PgJDBC address is rejected, since the router
 * itself chooses between servers (list replicas separately).
 */
public final class Dsn {

    /** Port PostgreSQL listens on when a DSN names none. */
    public static final int DEFAULT_PORT = 5432;

    private static final String MASK = "****";

    /** libpq parameter names that PgJDBC spells differently; everything else passes through unchanged. */
    private static final Map<String, String> LIBPQ_TO_PGJDBC = Map.of(
            "connect_timeout", "connectTimeout",
            "application_name", "ApplicationName");

    private final String original;
    private final boolean jdbcForm;
    private final String host;
    private final int port;
    private final String database;
    private final String user;
    private final String password;
    private final Map<String, String> params;
    /** Where the password text sits in {@link #original}, or -1 when there is none. */
    private final int passwordStart;
    private final int passwordEnd;

    private Dsn(String original, boolean jdbcForm, String host, int port, String database, String user,
                String password, Map<String, String> params, int passwordStart, int passwordEnd) {
        this.original = original;
        this.jdbcForm = jdbcForm;
        this.host = host;
        this.port = port;
        this.database = database;
        this.user = user;
        this.password = password;
        this.params = params;
        this.passwordStart = passwordStart;
        this.passwordEnd = passwordEnd;
    }

    /**
     * Parses a DSN in either supported form.
     *
     * @throws IllegalArgumentException if the text is not a single-host PostgreSQL DSN; the message
     *     quotes the input with its password masked
     */
    public static Dsn parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("DSN is null");
        }
        String trimmed = text.strip();
        try {
            return doParse(trimmed);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid PostgreSQL DSN '" + mask(trimmed) + "': " + e.getMessage());
        }
    }

    /**
     * Masks anything in {@code text} that looks like a DSN password: the part after the first
     * {@code :} of a URL's user info, and the value of every {@code password=} parameter. Works on
     * text that does not parse (error messages, raw configuration values) and errs on the side of
     * masking too much.
     */
    public static String mask(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder out = new StringBuilder(text);
        int scheme = text.indexOf("://");
        if (scheme >= 0) {
            int authorityStart = scheme + 3;
            int at = text.lastIndexOf('@');
            if (at > authorityStart) {
                int colon = text.indexOf(':', authorityStart);
                if (colon >= 0 && colon < at) {
                    out.replace(colon + 1, at, MASK);
                }
            }
        }
        return maskPasswordParams(out.toString());
    }

    private static String maskPasswordParams(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        StringBuilder out = new StringBuilder();
        int from = 0;
        while (true) {
            int idx = lower.indexOf("password=", from);
            if (idx < 0) {
                out.append(text, from, text.length());
                return out.toString();
            }
            int valueStart = idx + "password=".length();
            int valueEnd = text.indexOf('&', valueStart);
            if (valueEnd < 0) {
                valueEnd = text.length();
            }
            out.append(text, from, valueStart).append(MASK);
            from = valueEnd;
        }
    }

    private static Dsn doParse(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("DSN is empty");
        }
        String lower = text.toLowerCase(Locale.ROOT);
        int restStart;
        boolean jdbc;
        if (lower.startsWith("jdbc:postgresql://")) {
            restStart = "jdbc:postgresql://".length();
            jdbc = true;
        } else if (lower.startsWith("postgres://")) {
            restStart = "postgres://".length();
            jdbc = false;
        } else if (lower.startsWith("postgresql://")) {
            restStart = "postgresql://".length();
            jdbc = false;
        } else {
            throw new IllegalArgumentException(
                    "expected postgres://, postgresql:// or jdbc:postgresql:// followed by host");
        }

        // Query string: everything after the first '?' that follows the user info.
        int at = jdbc ? -1 : userInfoEnd(text, restStart);
        int hostStart = at >= 0 ? at + 1 : restStart;
        int query = text.indexOf('?', hostStart);
        int pathOrQueryEnd = query >= 0 ? query : text.length();
        int slash = text.indexOf('/', hostStart);
        if (slash > pathOrQueryEnd) {
            slash = -1;
        }
        int hostPortEnd = slash >= 0 ? slash : pathOrQueryEnd;

        String user = "";
        String password = null;
        int pwStart = -1;
        int pwEnd = -1;
        if (at >= 0) {
            int colon = text.indexOf(':', restStart);
            if (colon >= 0 && colon < at) {
                user = decode(text.substring(restStart, colon), "user");
                pwStart = colon + 1;
                pwEnd = at;
                password = decode(text.substring(pwStart, pwEnd), "password");
            } else {
                user = decode(text.substring(restStart, at), "user");
            }
        }

        String hostPort = text.substring(hostStart, hostPortEnd);
        if (hostPort.indexOf(',') >= 0) {
            throw new IllegalArgumentException(
                    "more than one host; give each server its own DSN (master and replicas are listed separately)");
        }
        String host;
        int port = DEFAULT_PORT;
        String portText = null;
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("unterminated IPv6 address");
            }
            host = hostPort.substring(1, close);
            String tail = hostPort.substring(close + 1);
            if (!tail.isEmpty()) {
                if (!tail.startsWith(":")) {
                    throw new IllegalArgumentException("unexpected text after IPv6 address");
                }
                portText = tail.substring(1);
            }
        } else {
            int colon = hostPort.lastIndexOf(':');
            if (colon >= 0) {
                host = hostPort.substring(0, colon);
                portText = hostPort.substring(colon + 1);
            } else {
                host = hostPort;
            }
        }
        host = decode(host, "host");
        if (host.isEmpty()) {
            throw new IllegalArgumentException("host is missing");
        }
        if (portText != null && !portText.isEmpty()) {
            port = parsePort(portText);
        }

        String database = slash >= 0 ? decode(text.substring(slash + 1, pathOrQueryEnd), "database") : "";
        if (database.indexOf('/') >= 0) {
            throw new IllegalArgumentException("database name must not contain '/'");
        }

        Map<String, String> params = new LinkedHashMap<>();
        if (query >= 0) {
            String qs = text.substring(query + 1);
            int pos = query + 1;
            for (String pair : qs.split("&", -1)) {
                int pairStart = pos;
                pos += pair.length() + 1;
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String key = decode(eq >= 0 ? pair.substring(0, eq) : pair, "parameter name");
                String value = eq >= 0 ? decode(pair.substring(eq + 1), "parameter " + key) : "";
                if (key.isEmpty()) {
                    throw new IllegalArgumentException("empty parameter name");
                }
                if (key.equals("user")) {
                    if (!user.isEmpty() && !user.equals(value)) {
                        throw new IllegalArgumentException("user given twice with different values");
                    }
                    user = value;
                } else if (key.equals("password")) {
                    if (password != null) {
                        throw new IllegalArgumentException("password given twice");
                    }
                    password = value;
                    pwStart = pairStart + eq + 1;
                    pwEnd = pairStart + pair.length();
                } else {
                    params.put(key, value);
                }
            }
        }
        return new Dsn(text, jdbc, host, port, database, user, password == null ? "" : password,
                Collections.unmodifiableMap(params), pwStart, pwEnd);
    }

    /**
     * Index of the '@' that ends user info, or -1. As in Go's net/url (which parses Mattermost's
     * DSNs) and libpq, the authority ends at the first '/' or '?', so a '/' or '?' in a password
     * must be percent-encoded; an unencoded '@' in a password works, so take the last '@' of
     * the authority. An '@' in the query string is not user info.
     */
    private static int userInfoEnd(String text, int restStart) {
        int end = text.length();
        int slash = text.indexOf('/', restStart);
        int question = text.indexOf('?', restStart);
        if (slash >= 0) {
            end = slash;
        }
        if (question >= 0 && question < end) {
            end = question;
        }
        int at = text.lastIndexOf('@', end - 1);
        return at >= restStart ? at : -1;
    }

    private static int parsePort(String text) {
        int port;
        try {
            port = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port is not a number");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range 1..65535");
        }
        return port;
    }

    /** Percent-decoding as in RFC 3986 (a '+' stays a '+', unlike form decoding). */
    private static String decode(String s, String what) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new IllegalArgumentException("bad percent-encoding in " + what);
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("bad percent-encoding in " + what);
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(b, 0, b.length);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static String encode(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == '~') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }

    /**
     * A PgJDBC URL for this server without user or password (pass those separately). libpq
     * parameter names PgJDBC spells differently are translated ({@code connect_timeout} becomes
     * {@code connectTimeout}, {@code application_name} becomes {@code ApplicationName}); other
     * parameters pass through.
     */
    public String jdbcUrl() {
        StringBuilder url = new StringBuilder("jdbc:postgresql://");
        url.append(host.indexOf(':') >= 0 ? "[" + host + "]" : host).append(':').append(port).append('/')
                .append(encode(database));
        char sep = '?';
        for (Map.Entry<String, String> e : params.entrySet()) {
            String key = jdbcForm ? e.getKey() : LIBPQ_TO_PGJDBC.getOrDefault(e.getKey(), e.getKey());
            url.append(sep).append(encode(key)).append('=').append(encode(e.getValue()));
            sep = '&';
        }
        return url.toString();
    }

    /** Host name or address (IPv6 without brackets). */
    public String host() {
        return host;
    }

    /** TCP port, {@value #DEFAULT_PORT} when the DSN names none. */
    public int port() {
        return port;
    }

    /** Database name; empty when the DSN names none (the server then uses the user name). */
    public String database() {
        return database;
    }

    /** User name, decoded; empty when none is given. */
    public String user() {
        return user;
    }

    /** Password, decoded; empty when none is given. Never log it. */
    public String password() {
        return password;
    }

    /** Query parameters other than user and password, decoded, in their original order. */
    public Map<String, String> params() {
        return params;
    }

    /** {@code host:port/database}: names the server without credentials, e.g. in pool and thread names. */
    public String label() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port + "/" + database;
    }

    /** The DSN as it was written, with the password replaced by {@code ****}. */
    public String masked() {
        if (passwordStart < 0) {
            return original;
        }
        return original.substring(0, passwordStart) + MASK + original.substring(passwordEnd);
    }

    /** Equal when server, database, user, password and parameters are equal, whatever the written form. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Dsn other
                && port == other.port
                && host.equalsIgnoreCase(other.host)
                && database.equals(other.database)
                && user.equals(other.user)
                && password.equals(other.password)
                && jdbcUrl().equals(other.jdbcUrl());
    }

    @Override
    public int hashCode() {
        return Objects.hash(host.toLowerCase(Locale.ROOT), port, database, user);
    }

    /** The {@linkplain #masked() masked} form. */
    @Override
    public String toString() {
        return masked();
    }
}
