package io.hacluster.testkit;

import java.util.stream.Collectors;

/**
 * Run in a child JVM by {@link ChildJvmKillTest}: starts a topology, reports its postmaster pids
 * and directory on stdout, then waits to be killed (it gives up by itself after two minutes, so a
 * broken test cannot leave it behind forever).
 */
public final class TopologyChildMain {

    private TopologyChildMain() {}

    public static void main(String[] args) throws Exception {
        EmbeddedPostgresTopology topology = EmbeddedPostgresTopology.start(1);
        System.out.println("PIDS " + topology.postmasterPids().stream().map(String::valueOf)
                .collect(Collectors.joining(" ")));
        System.out.println("DIR " + topology.directory());
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(120_000);
        topology.close();
    }
}
