package io.hacluster.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Settings given as environment variables {@code HA_<SECTION>_<FIELD>}, the way Mattermost reads
 * {@code MM_<SECTION>_<FIELD>}: after the prefix the name splits at the first underscore, section
 * and field match case-insensitively, booleans parse as Go's {@code strconv.ParseBool}, integers
 * in base 10, lists split on whitespace, and lists of objects are JSON.
 *
 * <p>A variable is taken as a configuration override when its section part ends in
 * {@code SETTINGS}; other {@code HA_} variables (say {@code HA_HOME}) are not ours and are left
 * alone. An override naming a section or field we do not have is a problem reported by name,
 * never silently dropped: a typo would otherwise run the node with a setting the operator did not
 * mean.
 *
 * <p>An override of a Mattermost field this library does not use ({@code HA_SQLSETTINGS_TRACE})
 * is accepted, as the file accepts the field, and changes nothing: it is listed in
 * {@code unused}, and its value is neither parsed nor kept (it may be a secret such as
 * {@code AtRestEncryptKey}).
 *
 * <p>No problem quotes a value unmasked: a value is quoted through {@link SectionSchema#quote}.
 *
 * @param sections canonical section name to its overridden fields (canonical names, checked values)
 * @param variables {@code Section.Field} to the variable that set it, sorted; unused ones included
 * @param unused the {@code Section.Field} names among {@code variables} that ha-cluster does not use
 */
record EnvironmentOverrides(Map<String, ObjectNode> sections, Map<String, String> variables, Set<String> unused) {

    static final String PREFIX = "HA_";

    static final EnvironmentOverrides NONE = new EnvironmentOverrides(Map.of(), Map.of(), Set.of());

    private static final Set<String> TRUE_WORDS = Set.of("1", "t", "T", "TRUE", "true", "True");
    private static final Set<String> FALSE_WORDS = Set.of("0", "f", "F", "FALSE", "false", "False");

    EnvironmentOverrides {
        sections = Map.copyOf(sections);
        variables = java.util.Collections.unmodifiableMap(new TreeMap<>(variables));
        unused = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(unused));
    }

    /** The overrides in {@code environment}; every bad variable is added to {@code problems}. */
    static EnvironmentOverrides from(Map<String, String> environment, List<String> problems) {
        Map<String, ObjectNode> sections = new TreeMap<>();
        Map<String, String> variables = new TreeMap<>();
        Set<String> unused = new TreeSet<>();
        // Sorted, so problems come out in the same order on every run.
        for (Map.Entry<String, String> entry : new TreeMap<>(environment).entrySet()) {
            String variable = entry.getKey();
            if (!variable.startsWith(PREFIX)) {
                continue;
            }
            String rest = variable.substring(PREFIX.length());
            int split = rest.indexOf('_');
            String sectionPart = split < 0 ? rest : rest.substring(0, split);
            if (!sectionPart.toUpperCase(Locale.ROOT).endsWith("SETTINGS")) {
                continue;
            }
            Optional<SectionSchema> schema = SectionSchema.named(sectionPart);
            if (schema.isEmpty()) {
                problems.add(variable + ": unknown section " + sectionPart + "; only "
                        + ClusterSettings.SECTION + ", " + SqlSettings.SECTION + " and " + JobSettings.SECTION
                        + " can be overridden");
                continue;
            }
            String fieldPart = split < 0 ? "" : rest.substring(split + 1);
            if (fieldPart.isEmpty()) {
                problems.add(variable + ": names no field; expected " + PREFIX + sectionPart + "_<FIELD>");
                continue;
            }
            Optional<SectionSchema.Field> field = schema.get().find(fieldPart);
            Optional<String> kept = schema.get().findKeptUnused(fieldPart);
            if (field.isEmpty() && kept.isEmpty()) {
                problems.add(variable + ": unknown field " + fieldPart + " in " + schema.get().name()
                        + "; did you mean " + PREFIX + schema.get().name().toUpperCase(Locale.ROOT) + "_"
                        + ClosestName.among(fieldPart, schema.get().acceptedNames()).toUpperCase(Locale.ROOT) + "?");
                continue;
            }
            String setting = schema.get().name() + "." + field.map(SectionSchema.Field::name).orElseGet(kept::get);
            String earlier = variables.get(setting);
            if (earlier != null) {
                problems.add(variable + ": " + setting + " is already set by " + earlier);
                continue;
            }
            if (field.isEmpty()) {
                variables.put(setting, variable);
                unused.add(setting);
                continue;
            }
            String path = variable + " (" + setting + ")";
            JsonNode value = parse(field.get(), entry.getValue(), path, problems);
            if (value == null) {
                continue;
            }
            JsonNode checked = SectionSchema.checkValue(field.get(), value, path, problems);
            if (checked == null) {
                continue;
            }
            sections.computeIfAbsent(schema.get().name(), name -> ConfigJson.MAPPER.createObjectNode())
                    .set(field.get().name(), checked);
            variables.put(setting, variable);
        }
        return new EnvironmentOverrides(sections, variables, unused);
    }

    /** The overridden fields of {@code section}, possibly none. */
    ObjectNode section(String section) {
        ObjectNode fields = sections.get(section);
        return fields == null ? ConfigJson.MAPPER.createObjectNode() : fields.deepCopy();
    }

    /** The environment string as a JSON value of the field's kind, or null with a problem recorded. */
    private static JsonNode parse(SectionSchema.Field field, String raw, String path, List<String> problems) {
        String text = raw.strip();
        switch (field.kind()) {
            case BOOLEAN:
                if (TRUE_WORDS.contains(text)) {
                    return BooleanNode.TRUE;
                }
                if (FALSE_WORDS.contains(text)) {
                    return BooleanNode.FALSE;
                }
                problems.add(path + ": expected a boolean (true, false, 1, 0, t, f), got " + SectionSchema.quote(text));
                return null;
            case INT:
                try {
                    return IntNode.valueOf(Integer.parseInt(text));
                } catch (NumberFormatException e) {
                    problems.add(path + ": expected an integer in " + Integer.MIN_VALUE + ".."
                            + Integer.MAX_VALUE + ", got " + SectionSchema.quote(text));
                    return null;
                }
            case LONG:
                try {
                    return LongNode.valueOf(Long.parseLong(text));
                } catch (NumberFormatException e) {
                    problems.add(path + ": expected an integer in " + Long.MIN_VALUE + ".."
                            + Long.MAX_VALUE + ", got " + SectionSchema.quote(text));
                    return null;
                }
            case STRING:
                // Taken as given: a string setting may legitimately end in spaces.
                return TextNode.valueOf(raw);
            case STRING_LIST:
                ArrayNode list = ConfigJson.MAPPER.createArrayNode();
                if (!text.isEmpty()) {
                    for (String element : text.split("\\s+")) {
                        list.add(element);
                    }
                }
                return list;
            case RECORD_LIST:
                try {
                    return ConfigJson.MAPPER.readTree(text.isEmpty() ? "[]" : text);
                } catch (JsonProcessingException e) {
                    // Jackson's message may quote the text, and the text may hold a DSN: location only.
                    problems.add(path + ": expected a JSON list of objects; not valid JSON"
                            + (e.getLocation() == null ? "" : " at column " + e.getLocation().getColumnNr()));
                    return null;
                }
            default:
                throw new AssertionError(field.kind());
        }
    }
}
