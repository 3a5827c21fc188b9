package io.hacluster.messaging;

/** The {@link BestEffortChannel#none()} channel: nothing fits, everything goes over the stream. */
enum NoBestEffortChannel implements BestEffortChannel {
    INSTANCE;

    @Override
    public int maxPacketSize() {
        return 0;
    }

    @Override
    public boolean trySend(String nodeId, byte[] packet) {
        return false;
    }
}
