package io.hacluster.gossip.wire;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real Debian {@code serf} agent on 127.0.0.1, started and always stopped by the test. */
final class SerfPeer implements AutoCloseable {

    final String name;
    final int bindPort;
    final int rpcPort;
    private final Process process;
    private final Path log;

    private SerfPeer(String name, int bindPort, int rpcPort, Process process, Path log) {
        this.name = name;
        this.bindPort = bindPort;
        this.rpcPort = rpcPort;
        this.process = process;
        this.log = log;
    }

    static SerfPeer start(String name, int bindPort, int rpcPort, String... extraArgs) throws IOException {
        Path log = Files.createTempFile("serf-" + name + "-", ".log");
        List<String> cmd = new ArrayList<>(List.of("serf", "agent", "-node", name,
                "-bind", "127.0.0.1:" + bindPort, "-rpc-addr", "127.0.0.1:" + rpcPort,
                "-log-level", "debug"));
        cmd.addAll(List.of(extraArgs));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new SerfPeer(name, bindPort, rpcPort, p, log);
    }

    /** Runs a serf CLI command against this agent's RPC address; bounded to 20 s. */
    CliResult cli(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("serf");
        cmd.add(args[0]);
        cmd.add("-rpc-addr=127.0.0.1:" + rpcPort);
        cmd.addAll(List.of(args).subList(1, args.length));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out;
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new CliResult(-1, "timed out: " + cmd);
        }
        out = p.getInputStream().readAllBytes();
        return new CliResult(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    boolean alive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // a leftover temp file is harmless
        }
    }

    record CliResult(int exit, String output) {
    }
}
