package io.hacluster.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hacluster.db.Dsn;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * What differs between two configurations, setting by setting, and a configuration that keeps
 * chosen settings at an earlier configuration's values. {@code ClusterNode.reloadConfig()} is
 * built on both: it lists what a reloaded file changes, and runs the reloaded file with the
 * settings that need a restart kept as they were.
 */
public final class ConfigChanges {

    /** Longest value shown in a {@link ConfigDifference}. */
    public static final int MAX_VALUE_CHARS = 512;

    private static final List<SectionSchema> SECTIONS = SectionSchema.OURS;

    private ConfigChanges() {
    }

    /**
     * Every setting whose effective value (environment overrides applied) differs from
     * {@code before} to {@code after}: the fields of ClusterSettings, SqlSettings and JobSettings in
     * declaration order, then Mattermost's fields these sections carry unread, then other sections
     * by name (added, removed or changed). Values are shown only for the modelled fields, masked.
     */
    public static List<ConfigDifference> between(HaConfig before, HaConfig after) {
        Objects.requireNonNull(before, "before");
        Objects.requireNonNull(after, "after");
        List<ConfigDifference> out = new ArrayList<>();
        for (SectionSchema schema : SECTIONS) {
            ObjectNode b = ConfigJson.toTree(effective(before, schema));
            ObjectNode a = ConfigJson.toTree(effective(after, schema));
            List<String> notActedOn = MattermostFields.modelledUnused(schema.name());
            for (Iterator<String> names = b.fieldNames(); names.hasNext(); ) {
                String field = names.next();
                if (!b.get(field).equals(a.get(field))) {
                    out.add(new ConfigDifference(schema.name() + "." + field, display(b.get(field)),
                            display(a.get(field)), !notActedOn.contains(field)));
                }
            }
        }
        JsonNode fileBefore = fileTree(before);
        JsonNode fileAfter = fileTree(after);
        for (SectionSchema schema : SECTIONS) {
            for (String field : MattermostFields.keptUnused(schema.name())) {
                JsonNode b = fileBefore.path(schema.name()).get(field);
                JsonNode a = fileAfter.path(schema.name()).get(field);
                if (!Objects.equals(b, a)) {
                    out.add(new ConfigDifference(schema.name() + "." + field, null, null, false));
                }
            }
        }
        Map<String, JsonNode> othersBefore = before.otherSections();
        Map<String, JsonNode> othersAfter = after.otherSections();
        TreeSet<String> names = new TreeSet<>(othersBefore.keySet());
        names.addAll(othersAfter.keySet());
        for (String name : names) {
            if (!Objects.equals(othersBefore.get(name), othersAfter.get(name))) {
                out.add(new ConfigDifference(name, null, null, false));
            }
        }
        return List.copyOf(out);
    }

    /**
     * {@code loaded} with each of {@code settings} ({@code Section.Field} of ClusterSettings,
     * SqlSettings or JobSettings) as {@code running} has it: its file value is taken from
     * {@code running}, environment overrides stay {@code loaded}'s. Everything else is
     * {@code loaded}'s.
     *
     * @throws IllegalArgumentException if a name is not a field of those sections, or if an
     *     environment override makes a kept setting's effective value differ from {@code running}'s
     *     anyway (the two configurations were given different environments)
     * @throws ConfigException if the result is invalid
     */
    public static HaConfig keeping(HaConfig loaded, HaConfig running, Collection<String> settings) {
        ObjectNode cluster = ConfigJson.toTree(loaded.fileClusterSettings());
        ObjectNode sql = ConfigJson.toTree(loaded.fileSqlSettings());
        ObjectNode job = ConfigJson.toTree(loaded.fileJobSettings());
        ObjectNode runningCluster = ConfigJson.toTree(running.fileClusterSettings());
        ObjectNode runningSql = ConfigJson.toTree(running.fileSqlSettings());
        ObjectNode runningJob = ConfigJson.toTree(running.fileJobSettings());
        for (String setting : settings) {
            int dot = setting.indexOf('.');
            String section = dot < 0 ? setting : setting.substring(0, dot);
            String field = dot < 0 ? "" : setting.substring(dot + 1);
            ObjectNode target;
            ObjectNode source;
            switch (section) {
                case ClusterSettings.SECTION -> { target = cluster; source = runningCluster; }
                case SqlSettings.SECTION -> { target = sql; source = runningSql; }
                case JobSettings.SECTION -> { target = job; source = runningJob; }
                default -> throw new IllegalArgumentException(setting + " is not a field of "
                        + ClusterSettings.SECTION + ", " + SqlSettings.SECTION + " or " + JobSettings.SECTION);
            }
            if (!target.has(field)) {
                throw new IllegalArgumentException(setting + " is not a field of " + section);
            }
            target.set(field, source.get(field).deepCopy());
        }
        HaConfig kept = loaded.withFileForms(
                SectionSchema.CLUSTER.bind(ClusterSettings.defaults(), cluster),
                SectionSchema.SQL.bind(SqlSettings.defaults(), sql),
                SectionSchema.JOB.bind(JobSettings.defaults(), job));
        List<String> stillDifferent = between(running, kept).stream().map(ConfigDifference::setting)
                .filter(settings::contains).toList();
        if (!stillDifferent.isEmpty()) {
            throw new IllegalArgumentException("environment overrides give " + stillDifferent
                    + " another value than the running configuration has; they cannot be kept");
        }
        return kept;
    }

    private static Record effective(HaConfig config, SectionSchema schema) {
        if (schema == SectionSchema.CLUSTER) {
            return config.clusterSettings();
        }
        return schema == SectionSchema.SQL ? config.sqlSettings() : config.jobSettings();
    }

    private static JsonNode fileTree(HaConfig config) {
        try {
            return ConfigJson.MAPPER.readTree(config.toJson());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a configuration's own JSON does not parse", e);
        }
    }

    /** A value for display: every string masked, objects and lists as compact JSON, length bounded. */
    static String display(JsonNode value) {
        String text = value.isTextual() ? Dsn.mask(value.textValue()) : masked(value).toString();
        return text.length() > MAX_VALUE_CHARS ? text.substring(0, MAX_VALUE_CHARS) + "..." : text;
    }

    private static JsonNode masked(JsonNode value) {
        if (value.isTextual()) {
            return ConfigJson.MAPPER.getNodeFactory().textNode(Dsn.mask(value.textValue()));
        }
        if (value.isArray()) {
            var out = ConfigJson.MAPPER.createArrayNode();
            value.forEach(element -> out.add(masked(element)));
            return out;
        }
        if (value.isObject()) {
            ObjectNode out = ConfigJson.MAPPER.createObjectNode();
            value.properties().forEach(e -> out.set(e.getKey(), masked(e.getValue())));
            return out;
        }
        return value;
    }
}
