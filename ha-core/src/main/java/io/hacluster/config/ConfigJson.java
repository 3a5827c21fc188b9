package io.hacluster.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/** The one Jackson setup for configuration files, and the canonical form the hash is taken over. */
final class ConfigJson {

    /**
     * Duplicate keys are an error (which one wins would be a guess), and decimals are kept exactly
     * so sections we only carry through are written back as they were read.
     */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .build();

    /** The layout Mattermost writes: four-space indent, {@code "Key": value}. */
    static final ObjectWriter FILE_WRITER = MAPPER.writer(new DefaultPrettyPrinter()
            .withSeparators(Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
            .withObjectIndenter(new DefaultIndenter("    ", "\n"))
            .withArrayIndenter(new DefaultIndenter("    ", "\n")));

    private ConfigJson() {
    }

    /** A copy of {@code node} with the keys of every object sorted, at every depth. */
    static JsonNode sorted(JsonNode node) {
        if (node.isObject()) {
            List<String> names = new ArrayList<>();
            node.fieldNames().forEachRemaining(names::add);
            names.sort(null);
            ObjectNode out = MAPPER.createObjectNode();
            for (String name : names) {
                out.set(name, sorted(node.get(name)));
            }
            return out;
        }
        if (node.isArray()) {
            var out = MAPPER.createArrayNode();
            node.forEach(element -> out.add(sorted(element)));
            return out;
        }
        return node;
    }

    /** SHA-256, lower-case hex, of the compact UTF-8 JSON of {@code root} with sorted keys. */
    static String sha256OfCanonical(ObjectNode root) {
        try {
            byte[] canonical = MAPPER.writeValueAsString(sorted(root)).getBytes(StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("writing a JSON tree failed", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
    }

    /** The section as it is written in a file: every field, canonical names, declaration order. */
    static ObjectNode toTree(Record settings) {
        return MAPPER.valueToTree(settings);
    }

    /** Deep copies, so callers never share mutable trees with a configuration. */
    static Map<String, JsonNode> deepCopies(Map<String, JsonNode> sections) {
        var copy = new java.util.LinkedHashMap<String, JsonNode>();
        sections.forEach((name, tree) -> copy.put(name, tree.deepCopy()));
        return copy;
    }
}
