package io.hacluster.examples.chat;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * A request the server refuses with a 4xx (or a 503 when a dependency is down), with a message
 * for the client. The message never carries request content unescaped: it names the problem.
 */
final class ApiException extends Exception {

    private final HttpResponseStatus status;
    private final String id;

    /**
     * @param status the HTTP status
     * @param id     a stable machine-readable id, Mattermost style ({@code api.post.unknown_channel})
     * @param message what was wrong, for a human
     */
    ApiException(HttpResponseStatus status, String id, String message) {
        super(message, null, false, false);
        this.status = status;
        this.id = id;
    }

    HttpResponseStatus status() {
        return status;
    }

    String id() {
        return id;
    }

    static ApiException badRequest(String id, String message) {
        return new ApiException(HttpResponseStatus.BAD_REQUEST, id, message);
    }

    static ApiException notFound(String id, String message) {
        return new ApiException(HttpResponseStatus.NOT_FOUND, id, message);
    }

    static ApiException unauthorized(String message) {
        return new ApiException(HttpResponseStatus.UNAUTHORIZED, "api.context.session_expired", message);
    }
}
