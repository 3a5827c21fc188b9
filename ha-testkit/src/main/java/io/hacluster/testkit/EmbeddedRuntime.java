package io.hacluster.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every embedded topology of this JVM shares: the unpacked binaries, the server user, this
 * JVM's run directory and the template data directory. Made on first use; torn down by a shutdown
 * hook, which closes the topologies tests forgot to close. The hook is a convenience: a JVM
 * killed without running it still stops its servers through their watchdogs.
 */
final class EmbeddedRuntime {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedRuntime.class);
    private static EmbeddedRuntime instance; // guarded by EmbeddedRuntime.class

    private final PostgresBinaries binaries;
    private final ServerUser user;
    private final RunDirectory run;
    private final PostgresTemplate template;
    private final Set<EmbeddedPostgresTopology> open = ConcurrentHashMap.newKeySet();

    private EmbeddedRuntime(PostgresBinaries binaries, ServerUser user, RunDirectory run, PostgresTemplate template) {
        this.binaries = binaries;
        this.user = user;
        this.run = run;
        this.template = template;
    }

    static synchronized EmbeddedRuntime get() {
        if (instance == null) {
            ServerUser user = ServerUser.detect();
            PostgresBinaries binaries = PostgresBinaries.install();
            PostgresTemplate template = PostgresTemplate.obtain(binaries, user, RunDirectory.base());
            RunDirectory run = RunDirectory.create();
            EmbeddedRuntime runtime = new EmbeddedRuntime(binaries, user, run, template);
            Thread hook = new Thread(runtime::shutdown, "ha-testkit-pg-cleanup");
            Runtime.getRuntime().addShutdownHook(hook);
            instance = runtime;
        }
        return instance;
    }

    PostgresBinaries binaries() {
        return binaries;
    }

    ServerUser user() {
        return user;
    }

    RunDirectory run() {
        return run;
    }

    PostgresTemplate template() {
        return template;
    }

    void opened(EmbeddedPostgresTopology topology) {
        open.add(topology);
    }

    void closed(EmbeddedPostgresTopology topology) {
        open.remove(topology);
    }

    private void shutdown() {
        List<EmbeddedPostgresTopology> leftovers = new ArrayList<>(open);
        if (!leftovers.isEmpty()) {
            log.warn("Closing {} PostgreSQL topologies that were not closed", leftovers.size());
        }
        for (EmbeddedPostgresTopology topology : leftovers) {
            try {
                topology.close();
            } catch (RuntimeException e) {
                log.warn("Cannot close a topology at JVM exit: {}", e.toString());
            }
        }
        run.delete();
    }
}
