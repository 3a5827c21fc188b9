package io.hacluster.examples.chat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The websocket events, shaped as Mattermost's: {@code {"event": ..., "data": {...},
 * "broadcast": {"channel_id": ...}}}.
 */
final class ChatEvents {

    private static final Set<String> NAMES = Set.of("posted", "typing", "status_change", "hello");

    private ChatEvents() {
    }

    static String posted(Post post) {
        return event("posted", Map.of("post", post), post.channelId());
    }

    static String typing(long channelId, User user) {
        return event("typing", Map.of("user_id", user.id(), "username", user.username()), channelId);
    }

    static String status(User user, String status) {
        return event("status_change", Map.of("user_id", user.id(), "username", user.username(), "status", status), 0);
    }

    /**
     * The first event on a connection: which node serves it, and a token taken after the
     * connection joined the hub. Everything published before it joined is covered by the token,
     * so a catch-up read with it misses nothing the connection did not get live.
     */
    static String hello(String nodeId, String token) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("server_node", nodeId);
        data.put("consistency_token", token);
        return event("hello", data, 0);
    }

    static boolean isEvent(String json) {
        try {
            JsonNode tree = Json.MAPPER.readTree(json);
            return tree != null && tree.isObject() && tree.path("event").isTextual()
                    && NAMES.contains(tree.get("event").asText()) && tree.path("data").isObject();
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static String event(String name, Map<String, Object> data, long channelId) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("event", name);
        e.put("data", data);
        e.put("broadcast", Map.of("channel_id", channelId));
        return Json.write(e);
    }
}
