package io.hacluster.db;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 * is the {@link #masked()} form, and a parse error never quotes the input at all, since text that
 * does not parse cannot be trusted to have its password where a masker would look for it. The
 * host must be a plain host name or address, so {@link #label()} (used in pool and thread names)
 * can hold nothing else.
 *
 * <p>Only one host per DSN: a multi-host libpq or PgJDBC address is rejected, since the router
 * itself chooses between servers (list replicas separately).
 */
public final class Dsn {

    /** Port PostgreSQL listens on when a DSN names none. */
    public static final int DEFAULT_PORT = 5432;

    private static final String MASK = "****";

    /**
     * A key whose value is a secret, then its separator: {@code password}, {@code sslpassword},
     * {@code passwd}, {@code pwd}, {@code pass}, {@code secret}, {@code AtRestEncryptKey}, any case,
     * an optional closing quote of a quoted key, {@code =} or {@code :} with optional spaces.
     */
    private static final Pattern SECRET_KEY = Pattern.compile(
            "(?i)(?:password|passwd|pwd|pass|secret|atrestencryptkey)[\"']?\\s*[=:]\\s*");

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
     *     says what is wrong and never quotes the input (nor any part of it), and there is no cause
     */
    public static Dsn parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("invalid PostgreSQL DSN: DSN is null");
        }
        String trimmed = text.strip();
        try {
            return doParse(trimmed);
        } catch (IllegalArgumentException e) {
            // The reasons below are fixed texts that never include input; no cause is kept.
            throw new IllegalArgumentException("invalid PostgreSQL DSN: " + e.getMessage());
        }
    }

    /**
     * Masks anything in {@code text} that looks like a password, whatever the shape of the text:
     *
     * <ul>
     *   <li>URL-style user info, {@code user:password@host}, with or without a well-formed scheme
     *       ({@code postgres://}, {@code postgres//}, {@code postgres:/}, {@code postgres:user:pw@},
     *       MySQL's {@code user:pw@tcp(host)/db}): everything from the first {@code :} that is not
     *       a scheme's to the {@code @} that ends the user info;</li>
     *   <li>the value of every key that names a secret ({@code password}, {@code sslpassword},
     *       {@code pwd}, {@code AtRestEncryptKey}, ...), in any case, with {@code =} or {@code :}
     *       and optional spaces ({@code password = pw}, {@code "Password": "pw"}, {@code ?PASSWORD=pw}),
     *       quoted or not.</li>
     * </ul>
     *
     * <p>Works on text that does not parse (error messages, raw configuration values) and errs on
     * the side of masking too much: a host or user next to a password may be masked with it.
     */
    public static String mask(String text) {
        if (text == null) {
            return null;
        }
        return maskSecretValues(maskUserInfo(text));
    }

    /**
     * Masks the password of the first URL-style user info: from the first {@code :} that does not
     * end a scheme to the {@code @} that ends the user info. That {@code @} is the last one before
     * the query string when there is one (an {@code @} may appear unencoded in a password, or in a
     * query value), otherwise the last one of the text.
     */
    private static String maskUserInfo(String text) {
        int colon = -1;
        for (int i = text.indexOf(':'); i >= 0; i = text.indexOf(':', i + 1)) {
            if (!endsScheme(text, i)) {
                colon = i;
                break;
            }
        }
        if (colon < 0) {
            return text;
        }
        int query = text.indexOf('?', colon);
        int at = query >= 0 ? text.lastIndexOf('@', query) : -1;
        if (at <= colon) {
            at = text.lastIndexOf('@');
        }
        if (at <= colon) {
            return text;
        }
        return text.substring(0, colon + 1) + MASK + text.substring(at);
    }

    /**
     * Whether the {@code :} at {@code colon} ends a URL scheme: it follows a scheme word
     * ({@code [A-Za-z][A-Za-z0-9+.-]*}) and is followed by {@code /} or by another scheme word and
     * {@code :/} ({@code jdbc:postgresql://}). {@code postgres:user:pw@host} has no such colon, so
     * its first colon is taken as the password's.
     */
    private static boolean endsScheme(String text, int colon) {
        int wordStart = colon;
        while (wordStart > 0 && isSchemeChar(text.charAt(wordStart - 1))) {
            wordStart--;
        }
        if (wordStart == colon || !Character.isLetter(text.charAt(wordStart))) {
            return false;
        }
        int next = colon + 1;
        if (next < text.length() && text.charAt(next) == '/') {
            return true;
        }
        int wordEnd = next;
        while (wordEnd < text.length() && isSchemeChar(text.charAt(wordEnd))) {
            wordEnd++;
        }
        return wordEnd > next && Character.isLetter(text.charAt(next)) && text.startsWith(":/", wordEnd);
    }

    private static boolean isSchemeChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '+' || c == '.' || c == '-';
    }

    /**
     * Masks the value of every key that names a secret, in any case, as {@code key=value},
     * {@code key = value}, {@code key: value}, {@code "key": "value"}. A quoted value ends at its
     * closing quote; a query parameter ({@code ?key=} or {@code &key=}) at the next {@code &} or
     * {@code #}; any other value at the next whitespace, {@code &} or {@code ;}.
     */
    private static String maskSecretValues(String text) {
        Matcher key = SECRET_KEY.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        int from = 0;
        while (from < text.length() && key.find(from)) {
            int valueStart = key.end();
            int valueEnd;
            boolean queryParameter = key.start() > 0 && "?&".indexOf(text.charAt(key.start() - 1)) >= 0;
            if (valueStart < text.length() && (text.charAt(valueStart) == '"' || text.charAt(valueStart) == '\'')) {
                char quote = text.charAt(valueStart);
                valueStart++;
                valueEnd = valueStart;
                while (valueEnd < text.length() && text.charAt(valueEnd) != quote) {
                    valueEnd += text.charAt(valueEnd) == '\\' ? 2 : 1;
                }
                valueEnd = Math.min(valueEnd, text.length());
            } else {
                valueEnd = valueStart;
                while (valueEnd < text.length() && !endsValue(text.charAt(valueEnd), queryParameter)) {
                    valueEnd++;
                }
            }
            out.append(text, from, valueStart).append(MASK);
            from = valueEnd;
        }
        return out.append(text, Math.min(from, text.length()), text.length()).toString();
    }

    private static boolean endsValue(char c, boolean queryParameter) {
        if (queryParameter) {
            return c == '&' || c == '#';
        }
        return Character.isWhitespace(c) || c == '&' || c == ';';
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
            throw new IllegalArgumentException(unsupportedShape(lower));
        }

        // Query string: everything after the first '?' that follows the user info.
        int at = userInfoEnd(text, restStart);
        if (jdbc && at >= 0) {
            // PgJDBC has no user info in its URLs: it would take "user:password@host" for the host.
            throw new IllegalArgumentException("a jdbc:postgresql:// URL cannot carry user:password@ before the "
                    + "host; give them as parameters (?user=...&password=...) or write postgres://user:password@host");
        }
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
        checkHost(host, hostPort.startsWith("["));
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
                String value = eq >= 0 ? decode(pair.substring(eq + 1), "a parameter value") : "";
                if (key.isEmpty()) {
                    throw new IllegalArgumentException("empty parameter name");
                }
                // PgJDBC and libpq spell these in lower case; any other case is still a credential and
                // must not pass through to the JDBC URL (and from there into pool logs) as a parameter.
                if (key.equalsIgnoreCase("user")) {
                    if (!user.isEmpty() && !user.equals(value)) {
                        throw new IllegalArgumentException("user given twice with different values");
                    }
                    user = value;
                } else if (key.equalsIgnoreCase("password")) {
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

    /** The number is not quoted: in a malformed DSN the "port" may be a piece of the password. */
    private static int parsePort(String text) {
        if (text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("port is not a number");
        }
        int port = Integer.parseInt(text);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port is out of range 1..65535");
        }
        return port;
    }

    /**
     * A host name or IPv4 address ({@code [A-Za-z0-9._-]}), or inside brackets an IPv6 address
     * with an optional zone. Anything else (an {@code @}, a {@code :} outside brackets, spaces)
     * means the text was not understood, and the "host" may hold part of a password.
     */
    private static void checkHost(String host, boolean bracketed) {
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            boolean nameChar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '-' || c == '_';
            boolean ok = nameChar || (bracketed && (c == ':' || c == '%'));
            if (!ok) {
                throw new IllegalArgumentException(bracketed
                        ? "the address in brackets is not an IPv6 address"
                        : "the host is not a host name or address (an unencoded '/', '?', '@' or ':' in the "
                                + "password must be percent-encoded)");
            }
        }
    }

    /** Why {@code lower} (the lower-cased input) is not one of our two forms, without quoting it. */
    private static String unsupportedShape(String lower) {
        if (lower.startsWith("mysql:") || lower.contains("@tcp(") || lower.contains("@unix(")) {
            return "this is a MySQL DSN; only PostgreSQL is supported (postgres://user:password@host:5432/db)";
        }
        if (lower.startsWith("postgres") || lower.startsWith("jdbc:postgres")) {
            return "the scheme must be written postgres://, postgresql:// or jdbc:postgresql:// (with both "
                    + "slashes) followed by the host";
        }
        if (!lower.contains("://") && lower.contains("=")) {
            return "key/value connection strings (host=... user=...) are not supported; write "
                    + "postgres://user:password@host:5432/db";
        }
        return "expected postgres://, postgresql:// or jdbc:postgresql:// followed by the host";
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

    /**
     * The DSN as it was written, with the password replaced by {@code ****}, and so is the value of
     * any other parameter that names a secret ({@code sslpassword}, ...).
     */
    public String masked() {
        String withoutPassword = passwordStart < 0 ? original
                : original.substring(0, passwordStart) + MASK + original.substring(passwordEnd);
        return maskSecretValues(withoutPassword);
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
