package dev.switchboard.demo;

import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.grizzly.StandaloneServer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs the demo on the embedded default: Grizzly, in-memory rooms, pages from {@code webapp/};
 * with {@code -Ddemo.redis=redis://host:port}, as a node of a cluster on that Redis.
 *
 * <pre>
 * mvn -q compile exec:java                      # http://localhost:8080
 * mvn -q compile exec:java -Ddemo.port=9090
 * mvn -q compile exec:java -Ddemo.port=8081 -Ddemo.redis=redis://127.0.0.1:6379
 * </pre>
 */
public final class DemoServer {
    private DemoServer() {
    }

    public static void main(String[] args) throws InterruptedException {
        int port = 8080;
        String host = "0.0.0.0";
        Path webRoot = Path.of("webapp");
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--host" -> host = args[i + 1];
                case "--webapp" -> webRoot = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (!Files.isDirectory(webRoot)) {
            throw new IllegalArgumentException("no folder " + webRoot.toAbsolutePath() + ": run from the repository root");
        }
        String redis = System.getProperty(DemoCluster.SETTING, "");
        DemoCluster cluster = redis.isBlank() ? null : DemoCluster.join(redis, DemoApp.options());
        Switchboard server = Switchboard.create(cluster == null ? DemoApp.options() : cluster.options());
        DemoApp.install(server);
        EchoApp.install(server);
        StandaloneServer http = StandaloneServer.start(server, host, port, webRoot);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            http.close();
            if (cluster != null) {
                cluster.leave();
            }
        }, "switchboard-shutdown"));
        System.out.println("Switchboard demo running at " + http.httpUri() + " (WebSocket " + http.webSocketUri() + ")");
        Thread.currentThread().join();
    }

}
