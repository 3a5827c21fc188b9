package io.hacluster.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hacluster.db.Dsn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A whole Mattermost-shaped configuration: the {@code ClusterSettings}, {@code SqlSettings} and
 * {@code JobSettings} sections this library uses, and every other section carried through unread.
 *
 * <p>Two forms live in one value. The <em>file form</em> is what {@link #save(Path)} writes; the
 * <em>effective</em> settings, returned by {@link #clusterSettings()}, {@link #sqlSettings()} and
 * {@link #jobSettings()}, are the file form with the environment overrides
 * ({@code HA_<SECTION>_<FIELD>}, see {@link #withEnvironment(Map)}) laid on top. Overrides are
 * never written back, as Mattermost removes its {@code MM_} overrides before saving.
 *
 * <p>Fields Mattermost has in our sections but this library does not use ({@code UseGossip},
 * {@code Trace}, {@code AtRestEncryptKey}, ...) are accepted, kept as read and saved again; they
 * are listed by {@link #unusedSettings()} and once at INFO when a configuration is read. A field
 * name Mattermost does not have is an error that names the closest known one.
 *
 * <p>Every instance is valid: construction checks the effective settings and throws one
 * {@link ConfigException} listing every problem. Immutable and thread-safe.
 *
 * <pre>{@code
 * HaConfig config = HaConfig.load(Path.of("config.json"), System.getenv());
 * ClusterSettings cluster = config.clusterSettings();
 * }</pre>
 */
public final class HaConfig {

    /** Prefix of environment overrides: {@code HA_CLUSTERSETTINGS_GOSSIPPORT=9000}. */
    public static final String ENV_PREFIX = EnvironmentOverrides.PREFIX;

    /** A Mattermost config.json is tens of kilobytes; refuse to read something absurd into memory. */
    static final long MAX_FILE_BYTES = 8L * 1024 * 1024;

    /** Jackson's duplicate-key message; the key is a name, not a value, so it is kept. */
    private static final Pattern DUPLICATE_KEY = Pattern.compile("Duplicate field '([^']*)'");

    private static final Logger LOG = LoggerFactory.getLogger(HaConfig.class);

    private final ClusterSettings fileCluster;
    private final SqlSettings fileSql;
    private final JobSettings fileJob;
    /** Per section of ours, Mattermost's fields no record models, canonical names, as read. */
    private final Map<String, ObjectNode> keptUnused;
    private final EnvironmentOverrides overrides;
    private final ClusterSettings cluster;
    private final SqlSettings sql;
    private final JobSettings job;
    /** Other sections, in file order; never handed out without copying. */
    private final Map<String, JsonNode> otherSections;
    /** Top-level order for saving: our section names and the other sections' names. */
    private final List<String> sectionOrder;
    private final String hash;

    private HaConfig(ClusterSettings fileCluster, SqlSettings fileSql, JobSettings fileJob,
                     Map<String, ObjectNode> keptUnused, Map<String, JsonNode> otherSections,
                     List<String> sectionOrder, EnvironmentOverrides overrides) {
        this.fileCluster = Objects.requireNonNull(fileCluster, "clusterSettings");
        this.fileSql = Objects.requireNonNull(fileSql, "sqlSettings");
        this.fileJob = Objects.requireNonNull(fileJob, "jobSettings");
        Map<String, ObjectNode> kept = new LinkedHashMap<>();
        keptUnused.forEach((section, fields) -> {
            if (!fields.isEmpty()) {
                kept.put(section, fields.deepCopy());
            }
        });
        this.keptUnused = Collections.unmodifiableMap(kept);
        this.otherSections = Collections.unmodifiableMap(ConfigJson.deepCopies(otherSections));
        this.sectionOrder = List.copyOf(sectionOrder);
        this.overrides = overrides;
        this.cluster = SectionSchema.CLUSTER.bind(fileCluster, overrides.section(ClusterSettings.SECTION));
        this.sql = SectionSchema.SQL.bind(fileSql, overrides.section(SqlSettings.SECTION));
        this.job = SectionSchema.JOB.bind(fileJob, overrides.section(JobSettings.SECTION));
        List<String> problems = ConfigValidator.problems(cluster, sql, job);
        if (!problems.isEmpty()) {
            throw new ConfigException("invalid configuration"
                    + (overrides.variables().isEmpty() ? "" : " (with environment overrides of "
                    + String.join(", ", overrides.variables().keySet()) + ")"), problems);
        }
        this.hash = computeHash();
    }

    /**
     * Reads {@code file}, applies the overrides found in {@code environment} and validates.
     *
     * @param environment variables to take {@code HA_...} overrides from; pass {@code System.getenv()}
     *     in production and your own map in tests
     * @throws ConfigException if the file cannot be read, is not JSON, has an unknown field or a
     *     value of the wrong type in ClusterSettings, SqlSettings or JobSettings, if an override is
     *     bad, or if the result is invalid; the message lists every problem
     */
    public static HaConfig load(Path file, Map<String, String> environment) {
        String json;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new ConfigException("cannot load " + file, List.of(
                        "file is " + size + " bytes; a configuration file may have at most " + MAX_FILE_BYTES));
            }
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("cannot load " + file, List.of(e.getClass().getSimpleName() + ": "
                    + e.getMessage()));
        }
        HaConfig config = parse(json, environment, file.toString());
        LOG.info("Loaded configuration {}: hash {}, environment overrides {}",
                file, config.hash, config.overrides.variables().values());
        return config;
    }

    /**
     * Parses the text of a {@code config.json}, applies the overrides found in {@code environment}
     * and validates; as {@link #load(Path, Map)} without the file.
     */
    public static HaConfig parse(String json, Map<String, String> environment) {
        return parse(json, environment, "configuration");
    }

    private static HaConfig parse(String json, Map<String, String> environment, String source) {
        JsonNode root;
        try {
            root = ConfigJson.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            // Jackson's own message can quote the offending text, which may be part of a DSN.
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new ConfigException("cannot load " + source,
                    List.of("not valid JSON" + where + ": " + withoutQuotedText(e.getOriginalMessage())));
        }
        if (root == null || !root.isObject()) {
            throw new ConfigException("cannot load " + source, List.of("expected a JSON object at the top level"));
        }
        List<String> problems = new ArrayList<>();
        Map<String, ObjectNode> fieldsBySection = new LinkedHashMap<>();
        Map<String, ObjectNode> keptBySection = new LinkedHashMap<>();
        for (SectionSchema schema : SectionSchema.OURS) {
            fieldsBySection.put(schema.name(), ConfigJson.MAPPER.createObjectNode());
            keptBySection.put(schema.name(), ConfigJson.MAPPER.createObjectNode());
        }
        Map<String, JsonNode> others = new LinkedHashMap<>();
        List<String> order = new ArrayList<>();
        Map<String, String> ourSectionsSeen = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : root.properties()) {
            String key = entry.getKey();
            SectionSchema schema = SectionSchema.named(key).orElse(null);
            if (schema == null) {
                others.put(key, entry.getValue());
                order.add(key);
                continue;
            }
            String earlier = ourSectionsSeen.putIfAbsent(schema.name(), key);
            if (earlier != null) {
                problems.add(key + ": section " + schema.name() + " is given twice (also as " + earlier + ")");
                continue;
            }
            order.add(schema.name());
            if (entry.getValue().isNull()) {
                continue;
            }
            fieldsBySection.get(schema.name()).setAll(schema.normalize(entry.getValue(), schema.name(), problems,
                    keptBySection.get(schema.name())));
        }
        EnvironmentOverrides overrides = EnvironmentOverrides.from(environment, problems);
        if (!problems.isEmpty()) {
            throw new ConfigException("cannot load " + source, problems);
        }
        HaConfig config = new HaConfig(
                SectionSchema.CLUSTER.bind(ClusterSettings.defaults(), fieldsBySection.get(ClusterSettings.SECTION)),
                SectionSchema.SQL.bind(SqlSettings.defaults(), fieldsBySection.get(SqlSettings.SECTION)),
                SectionSchema.JOB.bind(JobSettings.defaults(), fieldsBySection.get(JobSettings.SECTION)),
                keptBySection, others, order, overrides);
        List<String> unused = config.unusedSettings();
        if (!unused.isEmpty()) {
            // Names only: AtRestEncryptKey is among them, and its value is a secret.
            LOG.info("Mattermost settings in {} that ha-cluster keeps but does not use: {}", source, unused);
        }
        return config;
    }

    /**
     * Jackson quotes the offending text in single quotes or parentheses ("Unrecognized token
     * 'abc'", "Numeric value (123...) out of range"), and in a config file that text may be part
     * of a password; keep the explanation, drop the text. A duplicate key is a name, kept.
     */
    static String withoutQuotedText(String message) {
        if (message == null) {
            return "";
        }
        String firstLine = message.lines().findFirst().orElse("");
        Matcher duplicate = DUPLICATE_KEY.matcher(firstLine);
        if (duplicate.lookingAt()) {
            return "key '" + duplicate.group(1) + "' appears twice in one object";
        }
        return Dsn.mask(firstLine.replaceAll("'[^']*'", "'...'")
                .replaceAll("\\([^()]*\\)", "(...)"));
    }

    /** A builder for a configuration made in code; it starts from defaults and has no overrides. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * This configuration's file form with the overrides in {@code environment} on top, replacing any
     * overrides this value had. {@code withEnvironment(Map.of())} gives the file form alone.
     *
     * @throws ConfigException if an override is bad or the result is invalid
     */
    public HaConfig withEnvironment(Map<String, String> environment) {
        List<String> problems = new ArrayList<>();
        EnvironmentOverrides next = EnvironmentOverrides.from(environment, problems);
        if (!problems.isEmpty()) {
            throw new ConfigException("invalid environment overrides", problems);
        }
        return new HaConfig(fileCluster, fileSql, fileJob, keptUnused, otherSections, sectionOrder, next);
    }

    /**
     * This configuration with {@code settings} as the file form of ClusterSettings; the same
     * environment overrides still apply on top.
     *
     * @throws ConfigException if the result is invalid
     */
    public HaConfig withClusterSettings(ClusterSettings settings) {
        return new HaConfig(settings, fileSql, fileJob, keptUnused, otherSections, sectionOrder, overrides);
    }

    /**
     * This configuration with {@code settings} as the file form of SqlSettings; the same
     * environment overrides still apply on top.
     *
     * @throws ConfigException if the result is invalid
     */
    public HaConfig withSqlSettings(SqlSettings settings) {
        return new HaConfig(fileCluster, settings, fileJob, keptUnused, otherSections, sectionOrder, overrides);
    }

    /**
     * This configuration with {@code settings} as the file form of JobSettings; the same
     * environment overrides still apply on top.
     *
     * @throws ConfigException if the result is invalid
     */
    public HaConfig withJobSettings(JobSettings settings) {
        return new HaConfig(fileCluster, fileSql, settings, keptUnused, otherSections, sectionOrder, overrides);
    }

    /** ClusterSettings as the file gives them, without environment overrides; not validated alone. */
    ClusterSettings fileClusterSettings() {
        return fileCluster;
    }

    /** SqlSettings as the file gives them, without environment overrides; not validated alone. */
    SqlSettings fileSqlSettings() {
        return fileSql;
    }

    /** JobSettings as the file gives them, without environment overrides; not validated alone. */
    JobSettings fileJobSettings() {
        return fileJob;
    }

    /** This configuration with other file forms of our three sections; the rest, overrides included, kept. */
    HaConfig withFileForms(ClusterSettings clusterFile, SqlSettings sqlFile, JobSettings jobFile) {
        return new HaConfig(clusterFile, sqlFile, jobFile, keptUnused, otherSections, sectionOrder, overrides);
    }

    /** Effective ClusterSettings: the file form with environment overrides applied. */
    public ClusterSettings clusterSettings() {
        return cluster;
    }

    /** Effective SqlSettings: the file form with environment overrides applied. */
    public SqlSettings sqlSettings() {
        return sql;
    }

    /** Effective JobSettings: the file form with environment overrides applied. */
    public JobSettings jobSettings() {
        return job;
    }

    /**
     * Mattermost settings this configuration gives that ha-cluster does not use, as
     * {@code Section.Field}, sorted: fields no settings record models (kept as read and saved
     * again, e.g. {@code SqlSettings.Trace}), modelled fields ha-cluster does not act on when they
     * differ from their default ({@code JobSettings.CleanupConfigThresholdDays}), and environment
     * overrides of either. Names only; values are never listed.
     */
    public List<String> unusedSettings() {
        java.util.SortedSet<String> names = new java.util.TreeSet<>(overrides.unused());
        keptUnused.forEach((section, fields) -> fields.fieldNames()
                .forEachRemaining(field -> names.add(section + "." + field)));
        for (SectionSchema schema : SectionSchema.OURS) {
            JsonNode effective = ConfigJson.toTree(effective(schema.name()));
            JsonNode defaults = ConfigJson.toTree(defaults(schema.name()));
            for (String field : MattermostFields.modelledUnused(schema.name())) {
                if (!effective.get(field).equals(defaults.get(field))) {
                    names.add(schema.name() + "." + field);
                }
            }
        }
        return List.copyOf(names);
    }

    /** Every other top-level section, in file order, as deep copies of the JSON read. */
    public Map<String, JsonNode> otherSections() {
        return Collections.unmodifiableMap(ConfigJson.deepCopies(otherSections));
    }

    /**
     * The settings that environment variables override: {@code Section.Field} to the variable's
     * name, sorted. Values are left out on purpose (they may be DSNs).
     */
    public Map<String, String> environmentOverrides() {
        return overrides.variables();
    }

    /**
     * SHA-256, as 64 lower-case hex digits, of the effective configuration without its
     * node-specific settings: the other sections as read, the full SqlSettings and JobSettings
     * (defaults included, so leaving a field out equals writing its default; Mattermost's fields
     * we keep unused as read) without {@code JobSettings.RunJobs} and {@code RunScheduler}, as compact JSON with object
     * keys sorted at every depth. Nodes whose hashes differ are configured differently.
     * ClusterSettings are left out because they are node-specific (host names, addresses), as in
     * Mattermost, and so are RunJobs and RunScheduler (a node's role: job servers run jobs, and a
     * job-only node that never leads is a supported topology). The leader election's settings
     * ({@code JobSettings.LeaderLeaseMilliseconds}, {@code LeaderRenewDeadlineMilliseconds},
     * {@code LeaderRetryPeriodMilliseconds}, {@code LeaderElectionQuorum}) are in it: nodes that
     * time the lease differently, or count a different quorum, are misconfigured. An application
     * that sets them through {@code ClusterNodeBuilder} instead is not seen by the hash.
     */
    public String hash() {
        return hash;
    }

    /**
     * The file form as pretty JSON: no environment overrides, every field of our sections and
     * Mattermost's fields we keep unused. JobSettings is written when the file had it or it
     * differs from the defaults.
     */
    public String toJson() {
        ObjectNode root = ConfigJson.MAPPER.createObjectNode();
        for (String name : sectionOrder) {
            root.set(name, sectionTree(name));
        }
        for (String name : List.of(ClusterSettings.SECTION, SqlSettings.SECTION)) {
            if (!root.has(name)) {
                root.set(name, sectionTree(name));
            }
        }
        if (!root.has(JobSettings.SECTION)
                && (!fileJob.equals(JobSettings.defaults()) || keptUnused.containsKey(JobSettings.SECTION))) {
            root.set(JobSettings.SECTION, sectionTree(JobSettings.SECTION));
        }
        try {
            return ConfigJson.FILE_WRITER.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("writing a JSON tree failed", e);
        }
    }

    /**
     * Writes {@link #toJson()} (the file form, never the environment overrides) to {@code file}
     * atomically: a temporary file in the same directory is moved over it, so a crash leaves the
     * old file or the new one. The file holds DSN passwords: an existing file keeps its
     * permissions, a new one is readable by its owner only where the file system has POSIX
     * permissions.
     *
     * <p>{@code ClusterSettings.ReadOnlyConfig} is honoured as Mattermost's file store does: when
     * the configuration in force for {@code file} (the file now on disk, with this configuration's
     * environment overrides) has {@code Enable} and {@code ReadOnlyConfig} both true, nothing is
     * written (see {@link ReadOnlyConfigException}). A file that does not exist yet may be created.
     *
     * @throws ReadOnlyConfigException if the file is read-only, or exists and cannot be read
     * @throws UncheckedIOException if writing fails
     */
    public void save(Path file) {
        Path target = file.toAbsolutePath();
        ReadOnlyConfigGuard.check(target, overrides);
        Path dir = target.getParent();
        try {
            Path temp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
            try {
                if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                    Set<PosixFilePermission> permissions = Files.exists(target)
                            ? Files.getPosixFilePermissions(target)
                            : PosixFilePermissions.fromString("rw-------");
                    Files.setPosixFilePermissions(temp, permissions);
                }
                Files.writeString(temp, toJson(), StandardCharsets.UTF_8);
                try {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(temp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save configuration to " + target, e);
        }
        LOG.info("Saved configuration to {} (environment overrides not written: {})",
                target, overrides.variables().keySet());
    }

    /** A section as saved: ours are the file form and the kept fields, others as read. */
    private JsonNode sectionTree(String name) {
        Record fileForm = switch (name) {
            case ClusterSettings.SECTION -> fileCluster;
            case SqlSettings.SECTION -> fileSql;
            case JobSettings.SECTION -> fileJob;
            default -> null;
        };
        if (fileForm == null) {
            return otherSections.get(name).deepCopy();
        }
        return withKeptUnused(name, ConfigJson.toTree(fileForm));
    }

    private ObjectNode withKeptUnused(String section, ObjectNode tree) {
        ObjectNode kept = keptUnused.get(section);
        if (kept != null) {
            tree.setAll(kept.deepCopy());
        }
        return tree;
    }

    private Record effective(String section) {
        return switch (section) {
            case ClusterSettings.SECTION -> cluster;
            case SqlSettings.SECTION -> sql;
            case JobSettings.SECTION -> job;
            default -> throw new IllegalArgumentException(section);
        };
    }

    private static Record defaults(String section) {
        return switch (section) {
            case ClusterSettings.SECTION -> ClusterSettings.defaults();
            case SqlSettings.SECTION -> SqlSettings.defaults();
            case JobSettings.SECTION -> JobSettings.defaults();
            default -> throw new IllegalArgumentException(section);
        };
    }

    private String computeHash() {
        ObjectNode root = ConfigJson.MAPPER.createObjectNode();
        otherSections.forEach(root::set);
        root.set(SqlSettings.SECTION, withKeptUnused(SqlSettings.SECTION, ConfigJson.toTree(sql)));
        ObjectNode jobs = withKeptUnused(JobSettings.SECTION, ConfigJson.toTree(job));
        jobs.remove("RunJobs");
        jobs.remove("RunScheduler");  // a node's role: a job-only node that never leads is not misconfigured
        root.set(JobSettings.SECTION, jobs);
        return ConfigJson.sha256OfCanonical(root);
    }

    /** Equal when file forms (kept fields included), other sections and overrides are equal. */
    @Override
    public boolean equals(Object o) {
        return o instanceof HaConfig other
                && fileCluster.equals(other.fileCluster)
                && fileSql.equals(other.fileSql)
                && fileJob.equals(other.fileJob)
                && keptUnused.equals(other.keptUnused)
                && otherSections.equals(other.otherSections)
                && overrides.equals(other.overrides);
    }

    @Override
    public int hashCode() {
        return Objects.hash(fileCluster, fileSql, fileJob, keptUnused, otherSections, overrides);
    }

    /**
     * Effective settings (DSN passwords masked), the names (not values) of the unused Mattermost
     * settings and of other sections (they may hold secrets: {@code AtRestEncryptKey}, the
     * embedding application's own), the overridden settings and the hash.
     */
    @Override
    public String toString() {
        return "HaConfig[clusterSettings=" + cluster
                + ", sqlSettings=" + sql
                + ", jobSettings=" + job
                + ", unusedSettings=" + unusedSettings()
                + ", otherSections=" + otherSections.keySet()
                + ", environmentOverrides=" + overrides.variables().keySet()
                + ", hash=" + hash + "]";
    }

    /** Builds a configuration in code. Starts from default settings, no other sections, no overrides. */
    public static final class Builder {
        private ClusterSettings cluster = ClusterSettings.defaults();
        private SqlSettings sql = SqlSettings.defaults();
        private JobSettings job;
        private final Map<String, JsonNode> others = new LinkedHashMap<>();

        private Builder() {
        }

        /** Sets ClusterSettings. */
        public Builder clusterSettings(ClusterSettings settings) {
            cluster = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /** Sets SqlSettings. */
        public Builder sqlSettings(SqlSettings settings) {
            sql = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /** Sets JobSettings; without this call the defaults apply and the section is not saved. */
        public Builder jobSettings(JobSettings settings) {
            job = Objects.requireNonNull(settings, "settings");
            return this;
        }

        /**
         * Adds another section (carried through and hashed, not read); {@code tree} is copied.
         *
         * @throws IllegalArgumentException if {@code name} is ClusterSettings, SqlSettings or
         *     JobSettings in any case
         */
        public Builder otherSection(String name, JsonNode tree) {
            if (SectionSchema.named(Objects.requireNonNull(name, "name")).isPresent()) {
                throw new IllegalArgumentException(name + " is set with clusterSettings()/sqlSettings()/jobSettings()");
            }
            others.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(tree, "tree").deepCopy());
            return this;
        }

        /**
         * The configuration.
         *
         * @throws ConfigException listing every problem if the settings are invalid
         */
        public HaConfig build() {
            List<String> order = new ArrayList<>(List.of(ClusterSettings.SECTION, SqlSettings.SECTION));
            if (job != null) {
                order.add(JobSettings.SECTION);
            }
            order.addAll(others.keySet());
            return new HaConfig(cluster, sql, job == null ? JobSettings.defaults() : job, Map.of(), others, order,
                    EnvironmentOverrides.NONE);
        }
    }
}
