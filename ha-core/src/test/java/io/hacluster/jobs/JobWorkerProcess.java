package io.hacluster.jobs;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * A worker node in a child JVM, for crash tests: a job server that runs only jobs of type
 * {@code slow}, whose handler prints {@code STARTED <job id> <attempt>} and then blocks, so the
 * parent can kill this process mid-job. Arguments: JDBC URL, user, password, cluster, node id.
 * Exits when its standard input closes.
 */
public final class JobWorkerProcess {

    private JobWorkerProcess() {
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String user = args[1];
        String password = args[2];
        JobServer server = new JobServer(args[4], args[3], () -> DriverManager.getConnection(url, user, password), true,
                JobWorkerKillProcessTest.SETTINGS, OptionalLong::empty, -1, () -> { });
        server.prepare();
        server.registerJobHandler("slow", 1, ctx -> {
            System.out.println("STARTED " + ctx.job().id() + " " + ctx.job().attempts());
            System.out.flush();
            Thread.sleep(Duration.ofMinutes(5).toMillis());
        });
        server.start();
        System.out.println("READY");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        while (in.readLine() != null) {
            // no commands: stdin closing means the parent is gone
        }
        server.close();
    }
}
