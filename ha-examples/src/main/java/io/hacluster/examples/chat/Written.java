package io.hacluster.examples.chat;

import io.hacluster.db.ConsistencyToken;

/** A value just written on the master with the read-your-writes token taken after its commit. */
record Written<T>(T value, ConsistencyToken token) {
}
