package io.hacluster.messaging;

/**
 * A message body ready for the wire, shared by all targets of a broadcast.
 *
 * @param bytes      encoded body, deflated when {@code compressed}
 * @param compressed whether {@code bytes} starts with the uncompressed length and is deflated
 */
record EncodedBody(byte[] bytes, boolean compressed) {
}
