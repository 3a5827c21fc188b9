package io.hacluster.db;

import java.util.ArrayList;
import java.util.List;

/**
 * The servers of one settings generation. A reload builds a new topology and retires the old one,
 * whose pools drain and close. Rotation arrays are immutable snapshots swapped on every state
 * change, so the borrow path reads one volatile field and no lock.
 */
final class Topology {

    private static final Server[] NONE = new Server[0];

    final RouterSettings settings;
    final Server master;
    final Server[] replicas;
    final Server[] searchReplicas;
    private volatile Server[] replicaRotation = NONE;
    private volatile Server[] searchRotation = NONE;
    /** Set when a reload or close replaced this topology: its checks stop changing state. */
    volatile boolean retired;

    Topology(RouterSettings settings, Server master, List<Server> replicas, List<Server> searchReplicas) {
        this.settings = settings;
        this.master = master;
        this.replicas = replicas.toArray(NONE);
        this.searchReplicas = searchReplicas.toArray(NONE);
    }

    Server[] replicaRotation() {
        return replicaRotation;
    }

    Server[] searchRotation() {
        return searchRotation;
    }

    synchronized void rebuildRotation() {
        replicaRotation = healthy(replicas);
        searchRotation = healthy(searchReplicas);
    }

    private static Server[] healthy(Server[] servers) {
        List<Server> in = new ArrayList<>(servers.length);
        for (Server s : servers) {
            if (s.inRotation()) {
                in.add(s);
            }
        }
        return in.toArray(NONE);
    }

    /** Marks this topology and its servers replaced: checks stop changing state, waiting borrowers move on. */
    void retire() {
        retired = true;
        for (Server s : all()) {
            s.retire();
        }
    }

    List<Server> all() {
        List<Server> all = new ArrayList<>(1 + replicas.length + searchReplicas.length);
        all.add(master);
        all.addAll(List.of(replicas));
        all.addAll(List.of(searchReplicas));
        return all;
    }

    int activeConnections() {
        int active = 0;
        for (Server s : all()) {
            active += s.activeConnections();
        }
        return active;
    }

    void close() {
        for (Server s : all()) {
            s.close();
        }
    }
}
