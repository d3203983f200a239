package dev.switchboard.demo;

import dev.switchboard.server.Namespace;
import dev.switchboard.server.Switchboard;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The live graph of {@code webapp/graph.html}, on the namespace {@code /graph}: ten points a
 * second of two simulated sensors and the server's own CPU load, all on a 0 to 100 scale, pushed
 * as volatile events (a late point is worth less than the next one) to the sockets that
 * subscribed.
 *
 * <p>Events from the page: {@code subscribe()}, acknowledged with
 * {@code {series, periodMillis, points}} (the last 30 seconds, so the chart starts full), and
 * {@code unsubscribe()}. Events to the page: {@code point({time, values})}.
 *
 * <pre>{@code
 * ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
 * GraphFeed.install(server, timer);
 * }</pre>
 */
public final class GraphFeed {
    /** The namespace of the feed. */
    public static final String NAMESPACE = "/graph";
    /** The names of the values of each point, in order. */
    public static final List<String> SERIES = List.of("Temperature (°C)", "Humidity (%)", "Server CPU (%)");
    static final long PERIOD_MILLIS = 100;
    private static final int HISTORY = 300;
    /**
     * This node's subscribers: on a cluster every node samples its own series, so each serves the
     * pages connected to it, and the room is named after the feed, not shared by the nodes.
     */
    private final String subscribers = "subscribers@" + UUID.randomUUID().toString().substring(0, 8);

    /** One sample of every series. */
    public record Point(long time, List<Double> values) {
    }

    /** The answer to {@code subscribe}. */
    public record Subscription(List<String> series, long periodMillis, List<Point> points) {
    }

    private final Namespace graph;
    private final Random random = new Random();
    private final Recent<Point> history = new Recent<>(HISTORY);
    private double humidity = 55;

    private GraphFeed(Namespace graph) {
        this.graph = graph;
    }

    /** Serves the feed on {@code server}'s {@code /graph} namespace, sampling on {@code timer}. */
    public static void install(Switchboard server, ScheduledExecutorService timer) {
        GraphFeed feed = new GraphFeed(server.of(NAMESPACE));
        feed.graph.onConnection(socket -> {
            socket.on("subscribe", event -> {
                socket.join(feed.subscribers);
                event.ack(new Subscription(SERIES, PERIOD_MILLIS, feed.history.list()));
            });
            socket.on("unsubscribe", event -> {
                socket.leave(feed.subscribers);
                event.ack();
            });
        });
        timer.scheduleAtFixedRate(DemoApp.logFailures("graph feed", feed::tick), 0, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        Point point = sample(System.currentTimeMillis());
        history.add(point);
        // The subscribers are this node's own sockets: asking them costs nothing, and on a cluster
        // an idle feed then writes nothing to Redis.
        if (graph.sockets().values().stream().anyMatch(socket -> socket.rooms().contains(subscribers))) {
            graph.to(subscribers).asVolatile().emit("point", point);
        }
    }

    /** A slow daily-like wave with noise, a bounded random walk, and the real CPU load. */
    private Point sample(long time) {
        double temperature = 22 + 6 * Math.sin(time / 8000.0) + random.nextGaussian() * 0.4;
        humidity = Math.max(20, Math.min(90, humidity + random.nextGaussian() * 1.2));
        return new Point(time, List.of(round(temperature), round(humidity), round(cpuPercent())));
    }

    private static double cpuPercent() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return Math.max(0, os.getProcessCpuLoad() * 100);
        }
        return 0;
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }
}
