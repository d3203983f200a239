package dev.switchboard.demo;

import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.server.Switchboard;
import dev.switchboard.server.SwitchboardOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The demo pages' server side: the chat of {@code index.html} ({@link ChatApp}, namespace
 * {@code /chat}), the live graph of {@code graph.html} ({@link GraphFeed}, {@code /graph}) and the
 * server dashboard of {@code dashboard.html} ({@link DashboardFeed}, {@code /dashboard}).
 *
 * <pre>{@code
 * Switchboard server = Switchboard.create();
 * DemoApp.install(server);
 * StandaloneServer.start(server, "0.0.0.0", 8080, Path.of("webapp"));
 * }</pre>
 *
 * <p>The feeds run on timer threads of the demo's own, which stop once the server shuts down.
 */
public final class DemoApp {
    private static final System.Logger LOG = System.getLogger(DemoApp.class.getName());

    private DemoApp() {
    }

    /**
     * The demo server's options: the defaults, but for what these system properties set, so that
     * a deployment can be tried (and is tested) with a short heartbeat and a low connection cap:
     * {@code switchboard.pingInterval} and {@code switchboard.pingTimeout} in milliseconds,
     * {@code switchboard.maxConnectionsPerAddress}, and {@code switchboard.trustedProxies} (addresses
     * and CIDR ranges, comma-separated) for a deployment behind a reverse proxy.
     *
     * <pre>
     * java -Dswitchboard.pingInterval=1000 -Dswitchboard.pingTimeout=2000 -jar switchboard-standalone.jar
     * </pre>
     */
    public static SwitchboardOptions options() {
        SwitchboardOptions defaults = SwitchboardOptions.defaults();
        return defaults.toBuilder()
                .pingInterval(Duration.ofMillis(Long.getLong("switchboard.pingInterval", defaults.pingInterval().toMillis())))
                .pingTimeout(Duration.ofMillis(Long.getLong("switchboard.pingTimeout", defaults.pingTimeout().toMillis())))
                .maxConnections(defaults.maxConnections(),
                        Integer.getInteger("switchboard.maxConnectionsPerAddress", defaults.maxConnectionsPerAddress()))
                .trustedProxies(List.of(System.getProperty("switchboard.trustedProxies", "").split(",")).stream()
                        .filter(entry -> !entry.isBlank()).toList())
                .build();
    }

    /**
     * The demo's HTTP API: on, with {@code /metrics}, when started with {@code -Ddemo.apiKey=<key>}
     * (several keys comma-separated), over what {@code base} sets; off otherwise.
     *
     * <pre>
     * mvn -q compile exec:java -Ddemo.apiKey=s3cret
     * curl -H 'Authorization: apikey s3cret' http://localhost:8080/metrics
     * </pre>
     */
    public static HttpApiSettings httpApi(HttpApiSettings base) {
        String keys = System.getProperty("demo.apiKey");
        return keys == null ? base : base.withKeys(HttpApiSettings.splitKeys(keys)).withMetrics(true);
    }

    /** Installs the demo's handlers and starts its feeds on {@code server}. */
    public static void install(Switchboard server) {
        ChatApp.install(server);
        // Two threads: on a cluster, a graph tick waits for Redis (up to the publish timeout while it
        // is away), and must not hold up the dashboard that shows the outage. A periodic task never
        // overlaps itself, so each feed still runs one tick at a time.
        ScheduledExecutorService timer = Executors.newScheduledThreadPool(2, task -> {
            Thread thread = new Thread(task, "demo-feeds");
            // A demo timer must never keep a JVM alive whose server is gone.
            thread.setDaemon(true);
            return thread;
        });
        GraphFeed.install(server, timer);
        DashboardFeed.install(server, timer);
        // Switchboard has no shutdown hook of its own, so the timer watches for the shutdown; often,
        // so that it has ended before a servlet container looks for threads a stopped web application left.
        timer.scheduleWithFixedDelay(() -> {
            if (!server.accepting()) {
                timer.shutdownNow();
            }
        }, 100, 100, TimeUnit.MILLISECONDS);
    }

    /**
     * The task, logging what it throws: a periodic task that throws is silently never run again.
     */
    static Runnable logFailures(String name, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, name + " failed", e);
            }
        };
    }

    /** Logs a failed asynchronous step (a query across nodes that timed out) rather than losing it. */
    static void logFailures(String name, CompletableFuture<?> step) {
        step.whenComplete((result, failure) -> {
            if (failure != null) {
                LOG.log(System.Logger.Level.WARNING, name + " failed", failure);
            }
        });
    }
}
