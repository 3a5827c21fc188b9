package io.hacluster.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operating-system user that runs {@code initdb} and {@code postgres}.
 *
 * <p>PostgreSQL refuses to run as root, and CI runs as root. Then the server runs as an
 * unprivileged user ({@code hapg}, or the one named by {@value #USER_PROPERTY}), switched to with
 * {@code setpriv} (which execs, so the postmaster is the launched process itself and gets a
 * parent-death signal) or, where {@code setpriv} is missing, {@code runuser}. Otherwise the
 * server runs as the JVM's own user.
 */
final class ServerUser {

    /** Names the user that runs PostgreSQL when the JVM runs as root. */
    static final String USER_PROPERTY = "ha.testkit.pgUser";

    static final String DEFAULT_USER = "hapg";

    /** How to switch user when root: {@code setpriv} (default where installed) or {@code runuser}. */
    static final String SWITCH_PROPERTY = "ha.testkit.userSwitch";

    private static final Logger log = LoggerFactory.getLogger(ServerUser.class);

    private final String name;
    private final String uidGid; // "uid:gid" to chown to, or null when no switch is needed
    private final List<String> programPrefix;
    private final List<String> serverPrefix;
    private final boolean serverExecs;

    private ServerUser(String name, String uidGid, List<String> programPrefix, List<String> serverPrefix,
            boolean serverExecs) {
        this.name = name;
        this.uidGid = uidGid;
        this.programPrefix = List.copyOf(programPrefix);
        this.serverPrefix = List.copyOf(serverPrefix);
        this.serverExecs = serverExecs;
    }

    static ServerUser detect() {
        boolean setpriv = onPath("setpriv");
        if (!isRoot()) {
            // No switch; setpriv only adds the parent-death signal to the postmaster.
            List<String> server = setpriv ? List.of("setpriv", "--pdeathsig", "QUIT", "--") : List.of();
            return new ServerUser(System.getProperty("user.name"), null, List.of(), server, true);
        }
        String user = System.getProperty(USER_PROPERTY, DEFAULT_USER).trim();
        String switcher = System.getProperty(SWITCH_PROPERTY, setpriv ? "setpriv" : "runuser").trim();
        return forRoot(user, switcher);
    }

    /** Runs the server as {@code user}, switched to with {@code setpriv} or {@code runuser}; the JVM must be root. */
    static ServerUser forRoot(String user, String switcher) {
        String uid = idOf(user, "-u");
        String gid = idOf(user, "-g");
        if (uid == null || gid == null) {
            throw new PostgresTestkitException("PostgreSQL refuses to run as root, and this JVM runs as root, so the testkit "
                    + "runs the server as user '" + user + "', which does not exist. Create it with: useradd --system "
                    + "--no-create-home --shell /usr/sbin/nologin " + user + "   (or name an existing unprivileged user "
                    + "with -D" + USER_PROPERTY + "=<user>)");
        }
        if ("0".equals(uid)) {
            throw new PostgresTestkitException("-D" + USER_PROPERTY + "=" + user + " is root; PostgreSQL refuses to run as root");
        }
        if (!onPath(switcher)) {
            throw new PostgresTestkitException("This JVM runs as root and PostgreSQL refuses root; the testkit needs "
                    + switcher + " (util-linux) to run it as '" + user + "', and it is not on the PATH");
        }
        switch (switcher) {
            case "setpriv": {
                List<String> prefix = List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups");
                List<String> server = new ArrayList<>(prefix);
                server.addAll(List.of("--pdeathsig", "QUIT", "--"));
                List<String> program = new ArrayList<>(prefix);
                program.add("--");
                log.debug("Running PostgreSQL as {} ({}:{}) through setpriv", user, uid, gid);
                return new ServerUser(user, uid + ":" + gid, program, server, true);
            }
            case "runuser": {
                // runuser forks and waits (PAM session), so the postmaster is its child, not the launched process.
                List<String> prefix = List.of("runuser", "-u", user, "--");
                log.debug("Running PostgreSQL as {} through runuser", user);
                return new ServerUser(user, uid + ":" + gid, prefix, prefix, false);
            }
            default:
                throw new PostgresTestkitException("-D" + SWITCH_PROPERTY + "=" + switcher + ": use setpriv or runuser");
        }
    }

    /** Whether this JVM runs as root (then the server must run as another user). */
    static boolean jvmIsRoot() {
        return isRoot();
    }

    /** User name the server runs as. */
    String name() {
        return name;
    }

    /** Command that runs a one-shot program (initdb) as this user. */
    List<String> program(List<String> command) {
        List<String> full = new ArrayList<>(programPrefix);
        full.addAll(command);
        return full;
    }

    /** Command that runs the postmaster as this user. */
    List<String> server(List<String> command) {
        List<String> full = new ArrayList<>(serverPrefix);
        full.addAll(command);
        return full;
    }

    /** Whether {@link #server} execs, so the launched process is the postmaster itself. */
    boolean serverExecs() {
        return serverExecs;
    }

    /** Makes a tree belong to this user, when the server runs as another user than the JVM. */
    void own(Path path) {
        if (uidGid == null) {
            return;
        }
        Commands.run(List.of("chown", "-R", uidGid, path.toString()), 60);
    }

    private static boolean isRoot() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return Integer.valueOf(0).equals(uid);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    private static String idOf(String user, String flag) {
        try {
            Process id = new ProcessBuilder("id", flag, user).redirectErrorStream(true).start();
            String out = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!id.waitFor(10, TimeUnit.SECONDS)) {
                id.destroyForcibly();
                return null;
            }
            return id.exitValue() == 0 && out.matches("[0-9]+") ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PostgresTestkitException("interrupted", e);
        }
    }

    private static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
