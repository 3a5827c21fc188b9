package io.hacluster.examples.chat;

import com.fasterxml.jackson.annotation.JsonProperty;

/** A chat user: created on first login by name (the example has no passwords). */
public record User(@JsonProperty("id") long id, @JsonProperty("username") String username,
                   @JsonProperty("create_at") long createAt) {
}
