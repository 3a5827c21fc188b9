package io.hacluster.gossip.netty;

import io.hacluster.gossip.wire.MalformedMessageException;

import java.nio.ByteBuffer;

/**
 * Tells where one stream message ends. memberlist has no length prefix on streams: a Go peer
 * decodes the message straight off the connection and keeps the connection open while it waits
 * for the reply, so the transport must recognise a complete message by parsing it. One instance
 * follows one stream and may keep state between calls.
 */
@FunctionalInterface
interface MessageBoundary {

    /**
     * Returns the length of the complete message at the start of {@code bytes} (position to
     * limit), or -1 when more bytes are needed. {@code bytes} holds the stream from its first
     * byte, growing from call to call; its content and position are not changed.
     *
     * @throws MalformedMessageException when the bytes can never become a valid message
     */
    int completeLength(ByteBuffer bytes) throws MalformedMessageException;
}
