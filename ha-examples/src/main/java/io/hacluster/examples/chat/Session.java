package io.hacluster.examples.chat;

import io.hacluster.db.ConsistencyToken;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.DefaultCookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.netty.handler.codec.http.cookie.ServerCookieEncoder;
import java.util.Set;

/**
 * What a request carries of its author's session: who (login by name, no password: this is an
 * example; a real server checks a session token here) and the read-your-writes token of the
 * author's last write. Both travel as cookies (a browser) or headers (any client), so whichever
 * node the load balancer picks for the next request reads the author's own writes.
 */
final class Session {

    static final String USER_COOKIE = "HACHATUSERID";
    static final String TOKEN_COOKIE = "HACHATTOKEN";
    static final String USER_HEADER = "X-Chat-User";
    static final String TOKEN_HEADER = "X-Consistency-Token";
    /** Every answer names the node that served it (which node nginx picked). */
    static final String NODE_HEADER = "X-Cluster-Node";
    /** A header with more cookies than this is not a browser's. */
    private static final int MAX_COOKIES = 32;

    private Session() {
    }

    /** The user id the request names, or 0 when none; 400 when it is not a number. */
    static long userId(HttpRequest request) throws ApiException {
        String text = request.headers().get(USER_HEADER);
        if (text == null) {
            text = cookie(request, USER_COOKIE);
        }
        if (text == null || text.isEmpty()) {
            return 0;
        }
        try {
            long id = Long.parseLong(text);
            if (id <= 0) {
                throw new NumberFormatException();
            }
            return id;
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("api.context.invalid_session", "the session's user id is not a positive number");
        }
    }

    /**
     * The later of the tokens in the header and the cookie (a client may send the token of a
     * websocket hello in the header while the cookie holds its last write); null when neither.
     */
    static ConsistencyToken token(HttpRequest request) throws ApiException {
        ConsistencyToken header = parse(request.headers().get(TOKEN_HEADER));
        ConsistencyToken cookie = parse(cookie(request, TOKEN_COOKIE));
        if (header == null) {
            return cookie;
        }
        return cookie == null || Long.compareUnsigned(header.walPosition(), cookie.walPosition()) >= 0 ? header : cookie;
    }

    static String userCookie(long userId) {
        return cookie(USER_COOKIE, Long.toString(userId));
    }

    static String tokenCookie(ConsistencyToken token) {
        return cookie(TOKEN_COOKIE, token.asString());
    }

    private static String cookie(String name, String value) {
        DefaultCookie c = new DefaultCookie(name, value);
        c.setPath("/");
        c.setHttpOnly(true);
        c.setSameSite(io.netty.handler.codec.http.cookie.CookieHeaderNames.SameSite.Strict);
        return ServerCookieEncoder.STRICT.encode(c);
    }

    private static ConsistencyToken parse(String text) throws ApiException {
        if (text == null || text.isEmpty()) {
            return null;
        }
        if (text.length() > 17) {
            throw ApiException.badRequest("api.context.invalid_token", "the consistency token is longer than an LSN");
        }
        try {
            return ConsistencyToken.parse(text);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("api.context.invalid_token", "the consistency token is not an LSN such as 0/3000148");
        }
    }

    private static String cookie(HttpRequest request, String name) throws ApiException {
        String header = request.headers().get(HttpHeaderNames.COOKIE);
        if (header == null) {
            return null;
        }
        Set<Cookie> cookies = ServerCookieDecoder.STRICT.decode(header);
        if (cookies.size() > MAX_COOKIES) {
            throw ApiException.badRequest("api.context.invalid_cookie", "more than " + MAX_COOKIES + " cookies");
        }
        for (Cookie c : cookies) {
            if (c.name().equals(name)) {
                return c.value();
            }
        }
        return null;
    }
}
