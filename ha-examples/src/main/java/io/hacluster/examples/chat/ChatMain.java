package io.hacluster.examples.chat;

import io.hacluster.ClusterNode;
import io.hacluster.config.ConfigException;
import io.hacluster.config.HaConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar ha-chat.jar node --config config.json [--listen host:port]} runs one chat
 * node; {@code java -jar ha-chat.jar demo [--stay]} runs the narrated three-node demo
 * ({@link ChatDemo}).
 */
public final class ChatMain {

    static final String USAGE = """
            usage:
              java -jar ha-chat.jar node --config config.json [--listen host:port]
                  one chat node; config.json is Mattermost-shaped (ClusterSettings, SqlSettings, JobSettings,
                  ServiceSettings.ListenAddress, DataRetentionSettings); HA_<SECTION>_<FIELD> variables override
                  the first three
              java -jar ha-chat.jar demo [--stay]
                  PostgreSQL primary + replica, three chat nodes and (when installed) nginx on 127.0.0.1, narrated;
                  --stay keeps them running and prints the page's URL""";

    private ChatMain() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(List.of(args), System.out, System.err));
    }

    static int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        if (args.isEmpty()) {
            err.println(USAGE);
            return 2;
        }
        switch (args.get(0)) {
            case "node" -> {
                return node(args.subList(1, args.size()), out, err);
            }
            case "demo" -> {
                List<String> options = args.subList(1, args.size());
                if (!options.stream().allMatch("--stay"::equals)) {
                    err.println(USAGE);
                    return 2;
                }
                return new ChatDemo(out, options.contains("--stay")).run() ? 0 : 1;
            }
            default -> {
                err.println(USAGE);
                return 2;
            }
        }
    }

    private static int node(List<String> args, PrintStream out, PrintStream err) throws Exception {
        Path config = null;
        String listen = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if ((a.equals("--config") || a.equals("--listen")) && i + 1 < args.size()) {
                if (a.equals("--config")) {
                    config = Path.of(args.get(++i));
                } else {
                    listen = args.get(++i);
                }
            } else {
                err.println("unknown or incomplete option " + LogText.escape(a) + "\n" + USAGE);
                return 2;
            }
        }
        if (config == null) {
            err.println("node needs --config\n" + USAGE);
            return 2;
        }
        HaConfig haConfig;
        ChatSettings settings;
        try {
            haConfig = HaConfig.load(config, System.getenv());
            settings = ChatSettings.from(haConfig);
            if (listen != null) {
                int colon = listen.lastIndexOf(':');
                settings = settings.withListen(listen.substring(0, Math.max(colon, 0)),
                        Integer.parseInt(listen.substring(colon + 1)));
            }
        } catch (ConfigException | IllegalArgumentException e) {
            err.println("bad configuration: " + e.getMessage());
            return 2;
        }
        ChatServer server = ChatServer.start(ClusterNode.builder().config(haConfig), settings);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "chat-shutdown"));
        // One line a supervisor (or a test) can wait for: the node's id and where it listens.
        out.printf("CHAT-NODE-READY id=%s http=%s:%d%n", server.node().id(),
                server.httpAddress().getHostString(), server.httpAddress().getPort());
        out.flush();
        stopped.await();
        return 0;
    }
}
