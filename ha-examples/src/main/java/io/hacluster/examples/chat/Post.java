package io.hacluster.examples.chat;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One chat message as stored and as sent to clients.
 *
 * @param id         database id; within one channel, ids grow in commit order (see {@link ChatStore#createPost})
 * @param channelId  the channel it was posted to
 * @param userId     its author
 * @param username   its author's name, for display
 * @param message    the text, at most {@link ChatStore#MAX_MESSAGE_CHARS} characters
 * @param createAt   milliseconds since the epoch, on the master's clock
 * @param originNode the node that wrote it (shows the fan-out crossing nodes)
 */
public record Post(@JsonProperty("id") long id,
                   @JsonProperty("channel_id") long channelId,
                   @JsonProperty("user_id") long userId,
                   @JsonProperty("username") String username,
                   @JsonProperty("message") String message,
                   @JsonProperty("create_at") long createAt,
                   @JsonProperty("origin_node") String originNode) {
}
