package io.hacluster.examples.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** The one ObjectMapper of the chat server, with bounds on what it parses. */
final class Json {

    /** Nesting and string bounds well above any valid request and far below harm. */
    static final ObjectMapper MAPPER = JsonMapper.builder(new com.fasterxml.jackson.core.JsonFactoryBuilder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(16).maxStringLength(64 * 1024).maxNumberLength(32).build())
                    .build())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private Json() {
    }

    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + value.getClass().getSimpleName(), e);
        }
    }

    static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + value.getClass().getSimpleName(), e);
        }
    }

    /** Parses a request body that must be a JSON object; 400 otherwise (the parser's detail is not echoed). */
    static JsonNode object(byte[] body) throws ApiException {
        JsonNode tree;
        try {
            tree = MAPPER.readTree(body);
        } catch (java.io.IOException e) {
            throw ApiException.badRequest("api.context.invalid_body_param", "the body is not valid JSON");
        }
        if (tree == null || !tree.isObject()) {
            throw ApiException.badRequest("api.context.invalid_body_param", "the body must be a JSON object");
        }
        return tree;
    }

    /** A required string field of at most {@code maxChars}; 400 naming the field otherwise. */
    static String text(JsonNode object, String field, int maxChars) throws ApiException {
        JsonNode v = object.get(field);
        if (v == null || !v.isTextual()) {
            throw ApiException.badRequest("api.context.invalid_body_param", "'" + field + "' must be a string");
        }
        String s = v.asText();
        if (s.isBlank()) {
            throw ApiException.badRequest("api.context.invalid_body_param", "'" + field + "' must not be empty");
        }
        if (s.length() > maxChars) {
            throw ApiException.badRequest("api.context.invalid_body_param",
                    "'" + field + "' is longer than " + maxChars + " characters");
        }
        return s;
    }

    /** A required positive integer id field; 400 otherwise. */
    static long id(JsonNode object, String field) throws ApiException {
        JsonNode v = object.get(field);
        if (v == null || !v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() <= 0) {
            throw ApiException.badRequest("api.context.invalid_body_param", "'" + field + "' must be a positive integer id");
        }
        return v.asLong();
    }
}
