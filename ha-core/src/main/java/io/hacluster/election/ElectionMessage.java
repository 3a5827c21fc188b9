package io.hacluster.election;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One bully message as it travels in the payload of the reliable event {@value #EVENT}.
 *
 * <p>Wire format (big-endian): a format byte (1), the kind byte, the epoch, the fencing token and
 * the leader's since-time in epoch milliseconds as 8 bytes each, then the leader id as a 2-byte
 * length and UTF-8. ELECTION, ANSWER, RESIGN and ABSTAIN carry an empty leader id and zeros.
 *
 * @param kind what the message means
 * @param epoch the sender's epoch: ELECTION the candidacy's, ANSWER the highest the sender has seen,
 *     COORDINATOR the won one
 * @param leaderId COORDINATOR: the winner (the sender); empty otherwise
 * @param fencingToken COORDINATOR: the winner's lease token, 0 without a database
 * @param sinceMillis COORDINATOR: the winner's wall clock when it declared, for display only
 */
record ElectionMessage(Kind kind, long epoch, String leaderId, long fencingToken, long sinceMillis) {

    /** The messaging event election messages use; applications must not register it. */
    static final String EVENT = "ha.election";
    private static final int FORMAT = 1;
    private static final int MAX_ID_BYTES = 255;

    /** The bully algorithm's three messages, and two about leaving the election. */
    enum Kind {
        /** A candidate runs at this epoch. */
        ELECTION,
        /** A lower eligible id is alive and takes over, or the candidate's epoch is stale. */
        ANSWER,
        /** The winner of this epoch. */
        COORDINATOR,
        /**
         * The leader is leaving gracefully and has released the lease: elect now, without
         * waiting for gossip's LEFT to reach every node.
         */
        RESIGN,
        /**
         * The sender may lead but cannot reach the lease database: leave it out of the election
         * until its next ELECTION or COORDINATOR, so the next lowest id can lead meanwhile.
         */
        ABSTAIN
    }

    ElectionMessage {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(leaderId, "leaderId");
    }

    static ElectionMessage election(long epoch) {
        return new ElectionMessage(Kind.ELECTION, epoch, "", 0, 0);
    }

    static ElectionMessage answer(long epoch) {
        return new ElectionMessage(Kind.ANSWER, epoch, "", 0, 0);
    }

    static ElectionMessage resign(long epoch) {
        return new ElectionMessage(Kind.RESIGN, epoch, "", 0, 0);
    }

    static ElectionMessage abstain(long epoch) {
        return new ElectionMessage(Kind.ABSTAIN, epoch, "", 0, 0);
    }

    static ElectionMessage coordinator(LeaderInfo leader) {
        return new ElectionMessage(Kind.COORDINATOR, leader.epoch(), leader.id(), leader.fencingToken(),
                leader.since().toEpochMilli());
    }

    byte[] encode() {
        byte[] id = leaderId.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(2 + 24 + 2 + id.length);
        out.put((byte) FORMAT).put((byte) kind.ordinal()).putLong(epoch).putLong(fencingToken).putLong(sinceMillis);
        out.putShort((short) id.length).put(id);
        return out.array();
    }

    /**
     * Decodes a payload from a peer; input is untrusted.
     *
     * @throws IllegalArgumentException for anything that is not a well-formed message
     */
    static ElectionMessage decode(byte[] bytes) {
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            int format = in.get() & 0xff;
            if (format != FORMAT) {
                throw new IllegalArgumentException("unknown election message format " + format);
            }
            int kind = in.get() & 0xff;
            if (kind >= Kind.values().length) {
                throw new IllegalArgumentException("unknown election message kind " + kind);
            }
            long epoch = in.getLong();
            long token = in.getLong();
            long since = in.getLong();
            int idLength = in.getShort() & 0xffff;
            if (idLength > MAX_ID_BYTES || idLength > in.remaining()) {
                throw new IllegalArgumentException("bad leader id length " + idLength);
            }
            byte[] id = new byte[idLength];
            in.get(id);
            if (epoch < 0 || token < 0) {
                throw new IllegalArgumentException("negative epoch or token");
            }
            return new ElectionMessage(Kind.values()[kind], epoch, new String(id, StandardCharsets.UTF_8), token, since);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("election message truncated", e);
        }
    }
}
