package io.hacluster.examples.chat;

import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A node-local cache of rows by id, as Mattermost's local cache layer: filled on a miss,
 * emptied for a key when any node changes that row (the change is sent cluster-wide, see
 * {@link ClusterFanout}). Bounded: when full it starts over rather than grow. Only hits are
 * cached, never "not found", so a row created on another node a moment ago is found on its
 * first request here.
 */
final class LocalCache<V> {

    interface Loader<V> {
        Optional<V> load(long id) throws SQLException;
    }

    private final int maxEntries;
    private final Loader<V> loader;
    private final ConcurrentHashMap<Long, V> entries = new ConcurrentHashMap<>();

    LocalCache(int maxEntries, Loader<V> loader) {
        this.maxEntries = maxEntries;
        this.loader = loader;
    }

    Optional<V> get(long id) throws SQLException {
        V cached = entries.get(id);
        if (cached != null) {
            return Optional.of(cached);
        }
        Optional<V> loaded = loader.load(id);
        if (loaded.isPresent()) {
            if (entries.size() >= maxEntries) {
                entries.clear();
            }
            entries.put(id, loaded.get());
        }
        return loaded;
    }

    void invalidate(long id) {
        entries.remove(id);
    }

    void invalidateAll() {
        entries.clear();
    }

    int size() {
        return entries.size();
    }
}
