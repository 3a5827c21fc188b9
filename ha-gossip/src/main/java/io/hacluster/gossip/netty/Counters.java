package io.hacluster.gossip.netty;

import java.util.concurrent.atomic.LongAdder;

/** Counters updated from I/O threads and senders; read as a {@link TransportStats} snapshot. */
final class Counters {
    final LongAdder packetsSent = new LongAdder();
    final LongAdder packetsReceived = new LongAdder();
    final LongAdder packetsDropped = new LongAdder();
    final LongAdder packetSendErrors = new LongAdder();
    final LongAdder streamsAccepted = new LongAdder();
    final LongAdder streamsRejected = new LongAdder();
    final LongAdder streamsDropped = new LongAdder();
    final LongAdder exchangesStarted = new LongAdder();
    final LongAdder exchangesFailed = new LongAdder();

    TransportStats snapshot() {
        return new TransportStats(packetsSent.sum(), packetsReceived.sum(), packetsDropped.sum(),
                packetSendErrors.sum(), streamsAccepted.sum(), streamsRejected.sum(),
                streamsDropped.sum(), exchangesStarted.sum(), exchangesFailed.sum());
    }
}
