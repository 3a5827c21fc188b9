package io.hacluster.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Facts about postmaster processes, read from {@code postmaster.pid} and {@code /proc}. */
final class Postmasters {

    private Postmasters() {}

    /** Lines of {@code postmaster.pid}, or empty if there is none (the server is down or not yet up). */
    static List<String> pidFileLines(Path dataDir) {
        try {
            return List.of(Files.readString(dataDir.resolve("postmaster.pid"), StandardCharsets.UTF_8).split("\n"));
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            return List.of();
        }
    }

    /**
     * The pid of the live postmaster of a data directory: the pid in {@code postmaster.pid}, if that
     * process is alive and was started with this data directory (a stale file may name a reused pid).
     */
    static Optional<Long> pidOf(Path dataDir) {
        List<String> lines = pidFileLines(dataDir);
        if (lines.isEmpty()) {
            return Optional.empty();
        }
        long pid;
        try {
            pid = Long.parseLong(lines.get(0).trim());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        return isPostmasterOf(pid, dataDir) ? Optional.of(pid) : Optional.empty();
    }

    /** Whether {@code pid} is alive and its command line names {@code dataDir}. */
    static boolean isPostmasterOf(long pid, Path dataDir) {
        try {
            byte[] cmdline = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            String args = new String(cmdline, StandardCharsets.UTF_8).replace('\0', ' ');
            return args.contains(dataDir.toString());
        } catch (IOException e) {
            return false;
        }
    }

    static void signal(long pid, String signal) {
        try {
            Commands.run(List.of("kill", "-s", signal, Long.toString(pid)), 10);
        } catch (PostgresTestkitException e) {
            // it exited meanwhile
        }
    }

    /**
     * Sends {@code signal} to every pid of {@code pids} with one {@code kill}; a pid that exited
     * meanwhile is skipped (kill still signals the others).
     */
    static void signalAll(List<Long> pids, String signal) {
        if (pids.isEmpty()) {
            return;
        }
        List<String> command = new java.util.ArrayList<>(List.of("kill", "-s", signal));
        pids.forEach(pid -> command.add(Long.toString(pid)));
        try {
            Commands.run(command, 10);
        } catch (PostgresTestkitException e) {
            // one of them exited meanwhile
        }
    }

    /**
     * Whether {@code pid} is stopped by a signal (state {@code T} in {@code /proc/<pid>/stat}), or
     * gone: a process that exited cannot run on either.
     */
    static boolean isStoppedOrGone(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'
            int end = stat.lastIndexOf(')');
            char state = end >= 0 && end + 2 < stat.length() ? stat.charAt(end + 2) : '?';
            return state == 'T' || state == 'Z' || state == 'X';
        } catch (IOException e) {
            return true;
        }
    }

    static boolean isAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Waits up to {@code millis} for a process to exit; returns whether it did. */
    static boolean awaitExit(long pid, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (isAlive(pid)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return !isAlive(pid);
            }
        }
        return true;
    }
}
