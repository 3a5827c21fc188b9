package io.hacluster.messaging;

import java.util.concurrent.atomic.LongAdder;

/** The live counters behind {@link MessengerStats}. */
final class Counters {
    final LongAdder sent = new LongAdder();
    final LongAdder delivered = new LongAdder();
    final LongAdder acknowledged = new LongAdder();
    final LongAdder retransmitted = new LongAdder();
    final LongAdder duplicatesDropped = new LongAdder();
    final LongAdder staleDropped = new LongAdder();
    final LongAdder unknownEvents = new LongAdder();
    final LongAdder handlerFailures = new LongAdder();
    final LongAdder bestEffortViaChannel = new LongAdder();
    final LongAdder bestEffortDropped = new LongAdder();
    final LongAdder queueFullRejections = new LongAdder();
    final LongAdder protocolErrors = new LongAdder();
    final LongAdder oversizeFrames = new LongAdder();
    final LongAdder handshakeRejections = new LongAdder();
    final LongAdder idleCloses = new LongAdder();
    final LongAdder writeStallCloses = new LongAdder();
    final LongAdder connectionsEstablished = new LongAdder();
    final LongAdder connectionsClosed = new LongAdder();
    final LongAdder sendTimeouts = new LongAdder();
    final LongAdder drainDropped = new LongAdder();
    final LongAdder handshakeOverflows = new LongAdder();

    MessengerStats snapshot() {
        return new MessengerStats(sent.sum(), delivered.sum(), acknowledged.sum(), retransmitted.sum(),
                duplicatesDropped.sum(), staleDropped.sum(), unknownEvents.sum(), handlerFailures.sum(),
                bestEffortViaChannel.sum(), bestEffortDropped.sum(), queueFullRejections.sum(),
                protocolErrors.sum(), oversizeFrames.sum(), handshakeRejections.sum(), idleCloses.sum(),
                writeStallCloses.sum(), connectionsEstablished.sum(), connectionsClosed.sum(),
                sendTimeouts.sum(), drainDropped.sum(), handshakeOverflows.sum());
    }
}
