package io.hacluster.messaging;

import java.util.Map;

/**
 * The travelling part of a cluster message, decoded: event, props, data.
 *
 * @param event the handler key
 * @param props string properties
 * @param data  payload
 */
record MessageBody(String event, Map<String, String> props, byte[] data) {
}
