package io.hacluster.health;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** A request's query string as a map; bounded by the request line's length limit already. */
final class QueryString {

    /** More parameters than any endpoint here reads are refused, not parsed. */
    static final int MAX_PARAMETERS = 16;

    private QueryString() {
    }

    /**
     * @throws IllegalArgumentException for a malformed escape, too many parameters, or a repeated name
     */
    static Map<String, String> parse(String query) {
        Map<String, String> out = new LinkedHashMap<>();
        if (query.isEmpty()) {
            return out;
        }
        String[] pairs = query.split("&", MAX_PARAMETERS + 2);
        if (pairs.length > MAX_PARAMETERS) {
            throw new IllegalArgumentException("at most " + MAX_PARAMETERS + " query parameters");
        }
        for (String pair : pairs) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            if (out.putIfAbsent(name, value) != null) {
                throw new IllegalArgumentException("query parameter '" + printable(name) + "' is given twice");
            }
        }
        return out;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);  // IllegalArgumentException on a bad escape
    }

    /** For messages: control characters would end up in a client's log. */
    static String printable(String s) {
        String cut = s.length() > 64 ? s.substring(0, 64) + "..." : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
