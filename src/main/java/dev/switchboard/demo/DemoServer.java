package dev.switchboard.demo;

import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.grizzly.StandaloneOptions;
import dev.switchboard.transport.grizzly.StandaloneServer;
import dev.switchboard.transport.grizzly.TlsIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Runs the demo on the embedded default: Grizzly, in-memory rooms, pages from {@code webapp/};
 * with {@code -Ddemo.redis=redis://host:port}, as a node of a cluster on that Redis.
 *
 * <pre>
 * mvn -q compile exec:java                      # http://localhost:8080
 * mvn -q compile exec:java -Ddemo.port=9090
 * mvn -q compile exec:java -Ddemo.apiKey=s3cret    # with the HTTP API and /metrics
 * mvn -q compile exec:java -Ddemo.tlsCert=fullchain.pem -Ddemo.tlsKey=privkey.pem   # https:// and wss://
 * java -Ddemo.drainSpread=30 -jar switchboard-standalone.jar   # SIGTERM drains: 1012 over 30 s, then exit
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
        StandaloneServer http = StandaloneServer.start(server, StandaloneOptions.builder()
                .host(host).port(port).webRoot(webRoot).tls(tls())
                .api(DemoApp.httpApi(HttpApiSettings.from(System::getProperty))).build());
        Duration drainSpread = Duration.ofSeconds(Long.getLong("demo.drainSpread", 0));
        // SIGTERM: with a drain spread, clients are sent to reconnect elsewhere (1012) over that time
        // (a rolling restart); without, they are told the server is going away (1001).
        Runnable stop = drainSpread.isZero() ? http::close
                : () -> http.drain(drainSpread, drainSpread.plus(server.options().shutdownGrace())).join();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.run();
            if (cluster != null) {
                cluster.leave();
            }
        }, "switchboard-shutdown"));
        System.out.println("Switchboard demo running at " + http.httpUri() + " (WebSocket " + http.webSocketUri() + ")");
        Thread.currentThread().join();
    }

    /** TLS from {@code -Ddemo.tlsCert=<chain.pem> -Ddemo.tlsKey=<key.pem>}, or none. */
    private static TlsIdentity tls() {
        String cert = System.getProperty("demo.tlsCert");
        String key = System.getProperty("demo.tlsKey");
        if (cert == null && key == null) {
            return null;
        }
        if (cert == null || key == null) {
            throw new IllegalArgumentException("TLS needs both -Ddemo.tlsCert=<chain.pem> and -Ddemo.tlsKey=<key.pem>");
        }
        return TlsIdentity.pem(Path.of(cert), Path.of(key));
    }

}
