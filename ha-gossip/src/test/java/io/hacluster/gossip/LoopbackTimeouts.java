package io.hacluster.gossip;

import java.time.Duration;

/**
 * Bounds for tests on real sockets, sized for a loaded 2-core CI host.
 *
 * <p>The local preset's 1 s TCP timeout bounds one push/pull; a cold JVM's first one on a busy
 * host (class loading, JIT, a starved event loop) can take longer and fail a join that proves
 * nothing about the protocol. Failure detection does not depend on it (probes use UDP and the
 * probe deadline; the TCP fallback ping uses the probe deadline too), so the real-socket tests
 * give TCP exchanges longer and keep every membership timer of the preset.
 */
public final class LoopbackTimeouts {

    /** TCP timeout for Java nodes in real-socket tests. */
    public static final Duration TCP_TIMEOUT = Duration.ofSeconds(10);

    /** A join through one seed ends within one TCP timeout; the rest is slack for a busy host. */
    public static final Duration JOIN_WAIT = TCP_TIMEOUT.plusSeconds(20);

    private LoopbackTimeouts() {
    }
}
