package io.hacluster.examples.chat;

import com.fasterxml.jackson.annotation.JsonProperty;

/** A public channel. */
public record Channel(@JsonProperty("id") long id, @JsonProperty("name") String name,
                      @JsonProperty("display_name") String displayName,
                      @JsonProperty("create_at") long createAt) {
}
