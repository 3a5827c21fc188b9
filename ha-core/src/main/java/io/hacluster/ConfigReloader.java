package io.hacluster;

import io.hacluster.config.ConfigChanges;
import io.hacluster.config.ConfigDifference;
import io.hacluster.config.ConfigException;
import io.hacluster.config.HaConfig;
import io.hacluster.config.SqlSettings;
import io.hacluster.db.DatabaseRouter;
import io.hacluster.db.Dsn;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a node's configuration in force and reloads it (see {@link ReloadPolicy} for what changes
 * live and {@link ConfigReloadResult} for the rule). Reloads run one at a time.
 */
final class ConfigReloader {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigReloader.class);

    private final String nodeId;
    /** The file the node was built from, or null when it was built from settings in code. */
    private final Path file;
    private final Map<String, String> environment;
    /** Null without a database. */
    private final DatabaseRouter router;
    private final Supplier<String> advertisedHash;
    private final Consumer<String> announceHash;
    private final Object lock = new Object();
    private volatile HaConfig inForce;

    ConfigReloader(String nodeId, HaConfig initial, Path file, Map<String, String> environment, DatabaseRouter router,
                   Supplier<String> advertisedHash, Consumer<String> announceHash) {
        this.nodeId = nodeId;
        this.inForce = initial;
        this.file = file;
        this.environment = environment == null ? Map.of() : Map.copyOf(environment);
        this.router = router;
        this.advertisedHash = advertisedHash;
        this.announceHash = announceHash;
    }

    HaConfig inForce() {
        return inForce;
    }

    /**
     * Reads the node's file again with the environment it was built with, and applies it.
     *
     * @throws IllegalStateException when the node was built without a file
     */
    ConfigReloadResult reloadFile() {
        if (file == null) {
            throw new IllegalStateException("node " + nodeId + " was built without a configuration file"
                    + " (clusterSettings(...) or config(...)); reload it with reloadConfig(HaConfig)");
        }
        synchronized (lock) {
            HaConfig loaded;
            try {
                loaded = HaConfig.load(file, environment);
            } catch (ConfigException e) {
                return failed("cannot reload " + file + ": " + e.getMessage(), List.of());
            }
            return apply(loaded);
        }
    }

    /** Applies {@code loaded} as the new configuration in force, under the policy. */
    ConfigReloadResult apply(HaConfig loaded) {
        synchronized (lock) {
            HaConfig before = inForce;
            String hashBefore = advertisedHash.get();
            List<ConfigDifference> differences = ConfigChanges.between(before, loaded);
            if (differences.isEmpty()) {
                return new ConfigReloadResult(nodeId, hashBefore, hashBefore, List.of(), null);
            }
            boolean dataSourceToggled = before.sqlSettings().dataSource().isBlank()
                    != loaded.sqlSettings().dataSource().isBlank();
            List<SettingChange> changes = new ArrayList<>();
            Set<String> keep = new LinkedHashSet<>();
            for (ConfigDifference d : differences) {
                SettingChange.Status status = ReloadPolicy.statusOf(d, router != null, dataSourceToggled);
                changes.add(new SettingChange(d.setting(), d.before(), d.after(), status));
                if (status == SettingChange.Status.RESTART_REQUIRED) {
                    keep.add(d.setting());
                }
            }
            HaConfig next;
            try {
                next = keep.isEmpty() ? loaded : ConfigChanges.keeping(loaded, before, keep);
            } catch (ConfigException | IllegalArgumentException e) {
                return failed("cannot keep the settings that need a restart: " + e.getMessage(), changes);
            }
            if (router != null && !routed(before.sqlSettings()).equals(routed(next.sqlSettings()))) {
                try {
                    // the pools' metrics factory (ClusterNodeBuilder.databasePoolMetrics) carries over
                    router.reload(RouterSettingsMapper.map(next.sqlSettings(), nodeId,
                            router.settings().poolMetrics()));
                } catch (SQLException | RuntimeException e) {
                    String why = e instanceof SQLException s ? "the database router refused the new SqlSettings"
                            + " (SQLState " + s.getSQLState() + "): " + Dsn.mask(String.valueOf(e.getMessage()))
                            : "the database router refused the new SqlSettings: " + Dsn.mask(e.toString());
                    return failed(why, changes);
                }
            }
            inForce = next;
            String hashAfter = next.hash();
            if (!hashAfter.equals(hashBefore)) {
                announceHash.accept(hashAfter);
            }
            ConfigReloadResult result = new ConfigReloadResult(nodeId, hashBefore, hashAfter, changes, null);
            LOG.info("node {}: configuration reloaded: applied {}, restart required for {}, not used by ha-cluster {}",
                    nodeId, result.applied(), result.restartRequired(),
                    result.withStatus(SettingChange.Status.NOT_USED).stream().map(SettingChange::setting).toList());
            return result;
        }
    }

    private ConfigReloadResult failed(String why, List<SettingChange> changes) {
        String hash = advertisedHash.get();
        List<SettingChange> rejected = changes.stream().map(c -> c.status() == SettingChange.Status.APPLIED
                ? new SettingChange(c.setting(), c.before(), c.after(), SettingChange.Status.REJECTED) : c).toList();
        LOG.warn("node {}: configuration reload failed, nothing applied: {}", nodeId, why);
        return new ConfigReloadResult(nodeId, hash, hash, rejected, why);
    }

    /** The SqlSettings the router is built from; ReplicaLagSettings has no counterpart there. */
    private static SqlSettings routed(SqlSettings sql) {
        return sql.toBuilder().replicaLagSettings(List.of()).build();
    }
}
