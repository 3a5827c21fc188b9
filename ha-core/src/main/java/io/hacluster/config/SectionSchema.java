package io.hacluster.config;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hacluster.db.Dsn;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The fields of one settings record as JSON sees them, read from the record itself
 * ({@link JsonProperty} gives the name, {@link JsonAlias} older names, the component type the
 * kind), so the record stays the single place a setting is declared.
 *
 * <p>Names match case-insensitively, as Go's {@code encoding/json} matches Mattermost's struct
 * fields; that also accepts {@code UseIPAddress} for {@code UseIpAddress}.
 */
final class SectionSchema {

    /** What a field holds; decides which JSON values and environment strings it accepts. */
    enum Kind { BOOLEAN, INT, LONG, STRING, STRING_LIST, RECORD_LIST }

    /** One field: canonical JSON name, kind, and for {@link Kind#RECORD_LIST} the element schema. */
    record Field(String name, Kind kind, SectionSchema element) {
    }

    static final SectionSchema CLUSTER = new SectionSchema(ClusterSettings.SECTION, ClusterSettings.class);
    static final SectionSchema SQL = new SectionSchema(SqlSettings.SECTION, SqlSettings.class);
    static final SectionSchema JOB = new SectionSchema(JobSettings.SECTION, JobSettings.class);

    /** The sections this library reads, in the order they are written when a file lacks them. */
    static final List<SectionSchema> OURS = List.of(CLUSTER, SQL, JOB);

    private final String name;
    private final Class<? extends Record> type;
    private final List<Field> fields = new ArrayList<>();
    /** Lower-cased name or alias to field. */
    private final Map<String, Field> byLowerName = new HashMap<>();
    /** Lower-cased name to canonical name of Mattermost's fields no record component models. */
    private final Map<String, String> keptUnusedByLowerName = new HashMap<>();
    /** Every name this section accepts (names, aliases, Mattermost's other fields), for suggestions. */
    private final List<String> knownNames = new ArrayList<>();

    private SectionSchema(String name, Class<? extends Record> type) {
        this.name = name;
        this.type = type;
        for (String kept : MattermostFields.keptUnused(name)) {
            keptUnusedByLowerName.put(lower(kept), kept);
        }
        for (RecordComponent component : type.getRecordComponents()) {
            // Jackson's annotations cannot target record components; Java copies them to the accessor.
            JsonProperty property = component.getAccessor().getAnnotation(JsonProperty.class);
            if (property == null) {
                throw new IllegalStateException(type.getSimpleName() + "." + component.getName()
                        + " has no @JsonProperty");
            }
            Field field = new Field(property.value(), kindOf(component), elementSchema(component));
            fields.add(field);
            byLowerName.put(lower(field.name()), field);
            knownNames.add(field.name());
            JsonAlias alias = component.getAccessor().getAnnotation(JsonAlias.class);
            if (alias != null) {
                for (String other : alias.value()) {
                    byLowerName.put(lower(other), field);
                    knownNames.add(other);
                }
            }
        }
        knownNames.addAll(keptUnusedByLowerName.values().stream().sorted().toList());
    }

    /** The section named {@code name} in any case, if it is one of ours. */
    static Optional<SectionSchema> named(String name) {
        return OURS.stream().filter(schema -> schema.name.equalsIgnoreCase(name)).findFirst();
    }

    /**
     * The canonical name of the Mattermost field {@code jsonName} (any case) that no record
     * component models: kept as read, not used.
     */
    Optional<String> findKeptUnused(String jsonName) {
        return Optional.ofNullable(keptUnusedByLowerName.get(lower(jsonName)));
    }

    /** Every name this section accepts: field names, their aliases and Mattermost's other fields. */
    List<String> acceptedNames() {
        return knownNames;
    }

    /** "unknown field in X; did you mean Y?" for a name this section does not have. */
    String unknownField(String key) {
        return "unknown field in " + name + "; did you mean " + ClosestName.among(key, knownNames) + "?";
    }

    /** Section name as written in {@code config.json}. */
    String name() {
        return name;
    }

    List<Field> fields() {
        return fields;
    }

    /** The field called {@code jsonName} or one of its aliases, ignoring case. */
    Optional<Field> find(String jsonName) {
        return Optional.ofNullable(byLowerName.get(lower(jsonName)));
    }

    /**
     * As {@link #normalize(JsonNode, String, List, ObjectNode)} for an object where Mattermost's
     * unmodelled fields cannot appear (list elements); such a name is unknown there.
     */
    ObjectNode normalize(JsonNode section, String path, List<String> problems) {
        return normalize(section, path, problems, null);
    }

    /**
     * Checks a section object from a file or the environment and returns it with canonical field
     * names and JSON nulls dropped (a null means "use the default", as a nil pointer does in
     * Mattermost). Mattermost's fields that no record component models go, under their canonical
     * names and exactly as read, into {@code keptUnused}. Every problem is added to
     * {@code problems}, prefixed with {@code path}.
     */
    ObjectNode normalize(JsonNode section, String path, List<String> problems, ObjectNode keptUnused) {
        ObjectNode out = ConfigJson.MAPPER.createObjectNode();
        if (!section.isObject()) {
            problems.add(path + ": expected an object, got " + describe(section));
            return out;
        }
        Map<String, String> seen = new HashMap<>();
        for (Map.Entry<String, JsonNode> entry : section.properties()) {
            String key = entry.getKey();
            Optional<Field> field = find(key);
            Optional<String> kept = keptUnused == null ? Optional.empty() : findKeptUnused(key);
            if (field.isEmpty() && kept.isEmpty()) {
                problems.add(path + "." + key + ": " + unknownField(key));
                continue;
            }
            String canonical = field.map(Field::name).orElseGet(kept::get);
            String earlier = seen.putIfAbsent(canonical, key);
            if (earlier != null) {
                problems.add(path + "." + key + ": " + canonical + " is given twice (also as " + earlier + ")");
                continue;
            }
            if (field.isEmpty()) {
                // Not ours to check: Mattermost reads it, we only write it back.
                keptUnused.set(canonical, entry.getValue().deepCopy());
                continue;
            }
            if (entry.getValue().isNull()) {
                continue;
            }
            JsonNode value = checkValue(field.get(), entry.getValue(), path + "." + canonical, problems);
            if (value != null) {
                out.set(canonical, value);
            }
        }
        return out;
    }

    /** The value if it fits the field's kind, else null with a problem recorded. */
    static JsonNode checkValue(Field field, JsonNode value, String path, List<String> problems) {
        switch (field.kind()) {
            case BOOLEAN:
                if (value.isBoolean()) {
                    return value;
                }
                problems.add(path + ": expected true or false, got " + describe(value));
                return null;
            case INT:
                if (value.isIntegralNumber() && value.canConvertToInt()) {
                    return value;
                }
                problems.add(path + ": expected an integer in " + Integer.MIN_VALUE + ".." + Integer.MAX_VALUE
                        + ", got " + describe(value));
                return null;
            case LONG:
                if (value.isIntegralNumber() && value.canConvertToLong()) {
                    return value;
                }
                problems.add(path + ": expected an integer in " + Long.MIN_VALUE + ".." + Long.MAX_VALUE
                        + ", got " + describe(value));
                return null;
            case STRING:
                if (value.isTextual()) {
                    return value;
                }
                problems.add(path + ": expected a string, got " + describe(value));
                return null;
            case STRING_LIST:
                return checkArray(value, path, problems, (element, elementPath) -> {
                    if (element.isTextual()) {
                        return element;
                    }
                    problems.add(elementPath + ": expected a string, got " + describe(element));
                    return null;
                });
            case RECORD_LIST:
                return checkArray(value, path, problems,
                        (element, elementPath) -> field.element().normalize(element, elementPath, problems));
            default:
                throw new AssertionError(field.kind());
        }
    }

    private interface ElementCheck {
        JsonNode check(JsonNode element, String elementPath);
    }

    private static JsonNode checkArray(JsonNode value, String path, List<String> problems, ElementCheck check) {
        if (!value.isArray()) {
            problems.add(path + ": expected a list, got " + describe(value));
            return null;
        }
        ArrayNode out = ConfigJson.MAPPER.createArrayNode();
        int before = problems.size();
        for (int i = 0; i < value.size(); i++) {
            JsonNode checked = check.check(value.get(i), path + "[" + i + "]");
            if (checked != null) {
                out.add(checked);
            }
        }
        return problems.size() == before ? out : null;
    }

    /**
     * The record for {@code normalized} (output of {@link #normalize}) laid over {@code base}:
     * fields present in {@code normalized} win, the rest come from {@code base}.
     */
    <T extends Record> T bind(T base, ObjectNode normalized) {
        ObjectNode merged = ConfigJson.toTree(base);
        merged.setAll(normalized);
        try {
            return ConfigJson.MAPPER.treeToValue(merged, cast(base));
        } catch (JsonProcessingException | IllegalArgumentException e) {
            // Unreachable after normalize(); say which section without quoting values (they may hold DSNs).
            throw new IllegalStateException("cannot bind checked " + name + " values: "
                    + e.getClass().getSimpleName());
        }
    }

    @SuppressWarnings("unchecked")
    private <T extends Record> Class<T> cast(T base) {
        if (base.getClass() != type) {
            throw new IllegalArgumentException(base.getClass() + " is not " + type);
        }
        return (Class<T>) type;
    }

    /**
     * A JSON value for an error message: scalars quoted with any DSN password masked, lists and
     * objects by kind only (they may hold several DSNs).
     */
    static String describe(JsonNode value) {
        if (value.isArray()) {
            return "a list";
        }
        if (value.isObject()) {
            return "an object";
        }
        if (value.isTextual()) {
            return quote(value.textValue());
        }
        return value.toString();
    }

    /**
     * A configuration or environment value quoted for an error message, with anything that looks
     * like a password masked, whatever the shape (a DSN may sit in any field by mistake).
     */
    static String quote(String value) {
        return "\"" + Dsn.mask(value) + "\"";
    }

    private static Kind kindOf(RecordComponent component) {
        Class<?> raw = component.getType();
        if (raw == boolean.class) {
            return Kind.BOOLEAN;
        }
        if (raw == int.class) {
            return Kind.INT;
        }
        if (raw == long.class) {
            return Kind.LONG;
        }
        if (raw == String.class) {
            return Kind.STRING;
        }
        if (raw == List.class) {
            Class<?> element = listElement(component);
            if (element == String.class) {
                return Kind.STRING_LIST;
            }
            if (element.isRecord()) {
                return Kind.RECORD_LIST;
            }
        }
        throw new IllegalStateException("no configuration kind for " + component);
    }

    private static SectionSchema elementSchema(RecordComponent component) {
        if (component.getType() != List.class) {
            return null;
        }
        Class<?> element = listElement(component);
        if (!element.isRecord()) {
            return null;
        }
        @SuppressWarnings("unchecked")
        Class<? extends Record> recordType = (Class<? extends Record>) element;
        return new SectionSchema(element.getSimpleName(), recordType);
    }

    private static Class<?> listElement(RecordComponent component) {
        ParameterizedType generic = (ParameterizedType) component.getGenericType();
        return (Class<?>) generic.getActualTypeArguments()[0];
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
