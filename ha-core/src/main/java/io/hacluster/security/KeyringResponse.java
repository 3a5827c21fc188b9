package io.hacluster.security;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What every node answered to one cluster-wide keyring operation, as serf's {@code keys}
 * command reports it. Keys appear only as fingerprints (the first 8 hex digits of their SHA-256,
 * see {@link io.hacluster.gossip.Keyring#fingerprint}), so a response can be logged.
 *
 * @param numNodes    nodes asked (every live node, this one included)
 * @param errors      node id to why it failed (refused, not authenticated, no answer in time)
 * @param keys        for {@code listKeys}: key fingerprint to the number of nodes holding it
 * @param primaryKeys for {@code listKeys}: key fingerprint to the number of nodes using it as primary
 */
public record KeyringResponse(int numNodes, SortedMap<String, String> errors, SortedMap<String, Integer> keys,
                              SortedMap<String, Integer> primaryKeys) {

    public KeyringResponse {
        errors = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(errors));
        keys = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(keys));
        primaryKeys = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(primaryKeys));
    }

    /** True when every node asked succeeded. */
    public boolean ok() {
        return errors.isEmpty();
    }

    /** Nodes that succeeded. */
    public int numOk() {
        return numNodes - errors.size();
    }

    static KeyringResponse of(int numNodes, Map<String, String> errors, Map<String, Integer> keys,
                              Map<String, Integer> primaryKeys) {
        return new KeyringResponse(numNodes, new TreeMap<>(errors), new TreeMap<>(keys), new TreeMap<>(primaryKeys));
    }
}
