package dev.switchboard.demo;

import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.grizzly.StandaloneServer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs the demo on the embedded default: Grizzly, in-memory rooms, pages from {@code webapp/}.
 *
 * <pre>
 * mvn -q compile exec:java                      # http://localhost:8080
 * mvn -q compile exec:java -Ddemo.port=9090
 * mvn -q compile exec:java -Ddemo.apiKey=s3cret    # with the HTTP API and /metrics
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
        Switchboard server = Switchboard.create(DemoApp.options());
        DemoApp.install(server);
        EchoApp.install(server);
        StandaloneServer http = StandaloneServer.start(server, host, port, webRoot,
                DemoApp.httpApi(HttpApiSettings.from(System::getProperty)));
        Runtime.getRuntime().addShutdownHook(new Thread(http::close, "switchboard-shutdown"));
        System.out.println("Switchboard demo running at " + http.httpUri() + " (WebSocket " + http.webSocketUri() + ")");
        Thread.currentThread().join();
    }

}
