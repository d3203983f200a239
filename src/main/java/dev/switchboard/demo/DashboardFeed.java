package dev.switchboard.demo;

import dev.switchboard.adapter.ClusterStatus;
import dev.switchboard.api.RemoteSocket;
import dev.switchboard.server.Connection;
import dev.switchboard.server.Metrics;
import dev.switchboard.server.Namespace;
import dev.switchboard.server.Switchboard;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The figures of {@code webapp/dashboard.html}, on the namespace {@code /dashboard}: once a
 * second, every socket there gets a {@code stats} event with the server's connections, the client
 * addresses that hold the most of them, sockets per namespace, rooms with their member counts, events in and frames out per second, send-queue
 * depths against the server-wide bound, slow consumers cut off, recoveries, volatile events
 * dropped, application callbacks that threw, and the cluster (the figures {@code /metrics} serves). A socket that connects first gets {@code
 * history}, the last minute of them, so that its sparklines start full.
 *
 * <pre>{@code
 * ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
 * DashboardFeed.install(server, timer);
 * }</pre>
 */
public final class DashboardFeed {
    /** The namespace of the feed. */
    public static final String NAMESPACE = "/dashboard";
    static final long PERIOD_MILLIS = 1000;
    private static final int HISTORY = 60;
    /** Bounds the size of a {@code stats} event on a server with many rooms. */
    private static final int MAX_ROOMS = 50;
    private static final int MAX_ADDRESSES = 5;
    private static final String USER_ROOM_PREFIX = Namespace.userRoom("");

    /** A room and how many sockets are in it. */
    public record Room(String namespace, String name, int members) {
    }

    /**
     * The cluster as this node saw it in one second.
     *
     * @param clustered          false on a single node: one node, no Redis link, and nothing published through it
     * @param nodes              nodes alive, this one included
     * @param linkUp             whether this node's heartbeats reach Redis (new connections are refused while not)
     * @param fenced             cut from Redis longer than the node timeout: nodes still on Redis count this one dead
     * @param publishesPerSecond emits of this node read back from Redis in the last second
     * @param publishMillis      their mean time from publishing to reading back, in milliseconds (0 when none)
     * @param publishP99Millis   the upper bound of the latency bucket that holds 99 % of them, in milliseconds, as
     *                           {@code histogram_quantile} reads {@code /metrics}; 0 when none, -1 past the last bound
     * @param failedEmits        emits Redis did not take within the publish timeout, since the server started
     * @param timedOutQueries    queries across nodes that timed out, since the server started
     * @param refusedConnections connections refused while this node could not reach Redis, since the server started
     */
    public record Cluster(boolean clustered, int nodes, boolean linkUp, boolean fenced, long publishesPerSecond,
                          double publishMillis, double publishP99Millis, long failedEmits, long timedOutQueries, long refusedConnections) {
    }

    /** A client address and the connections it holds, as the handshakes saw it (behind a trusted proxy: the client's). */
    public record Address(String address, int connections) {
    }

    /**
     * One second of the server.
     *
     * @param connectionsByWire connections by wire format and transport: {@code native}, {@code socket.io websocket},
     *                        {@code socket.io polling}
     * @param topAddresses    the client addresses holding the most connections (the largest {@value #MAX_ADDRESSES}), most first
     * @param sockets         connected sockets by namespace
     * @param rooms           the application's rooms (the largest {@value #MAX_ROOMS}), without the room of each socket and user
     * @param queuedBytes     bytes waiting in all send queues
     * @param queueBound      the bound on {@code queuedBytes}, past which the fullest queues are cut off
     * @param largestQueue    bytes waiting in the fullest send queue
     * @param slowConsumers   clients cut off as slow consumers since the server started
     * @param recovering      dropped sessions waiting for their client
     * @param recoveries      sessions recovered since the server started
     * @param listenerFailures application callbacks (listeners, middleware) that threw since the server started
     * @param cluster         the cluster as this node sees it
     */
    public record Stats(long time, int connections, Map<String, Integer> connectionsByWire, List<Address> topAddresses, int totalSockets, Map<String, Integer> sockets, List<Room> rooms,
                       long eventsInPerSecond, long framesOutPerSecond, long queuedBytes, long queueBound, long largestQueue,
                       long slowConsumers, int recovering, long recoveries, long droppedVolatile,
                       long listenerFailures, Cluster cluster) {

        Stats withRooms(List<Room> newRooms) {
            return new Stats(time, connections, connectionsByWire, topAddresses, totalSockets, sockets, newRooms, eventsInPerSecond, framesOutPerSecond,
                    queuedBytes, queueBound, largestQueue, slowConsumers, recovering, recoveries, droppedVolatile,
                    listenerFailures, cluster);
        }
    }

    private final Switchboard server;
    private final Recent<Stats> history = new Recent<>(HISTORY);
    // The figures at the last measure; the timer's, one measure at a time.
    private long lastEventsIn;
    private long lastFramesOut;
    private ClusterStatus lastCluster;
    private long lastTime;

    private DashboardFeed(Switchboard server) {
        this.server = server;
        lastEventsIn = server.metrics().eventsIn();
        lastFramesOut = server.metrics().framesOut();
        lastCluster = server.metrics().cluster();
        lastTime = System.currentTimeMillis();
    }

    /** Serves the figures on {@code server}'s {@code /dashboard} namespace, measured on {@code timer}. */
    public static void install(Switchboard server, ScheduledExecutorService timer) {
        DashboardFeed feed = new DashboardFeed(server);
        Namespace dashboard = server.of(NAMESPACE);
        // On a cluster each node measures itself, so each serves the pages connected to it, straight
        // to its own sockets: not through Redis, so that the page still shows a node cut from it.
        dashboard.onConnection(socket -> dashboard.to(socket.id()).emitLocally("history", feed.history.list()));
        timer.scheduleAtFixedRate(() -> DemoApp.logFailures("dashboard feed", feed.measure().thenAccept(stats ->
                dashboard.operator().emitLocally("stats", stats))),
                PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Completes once the rooms are counted, which with a cluster adapter asks every node. */
    private CompletableFuture<Stats> measure() {
        long now = System.currentTimeMillis();
        Metrics metrics = server.metrics();
        long eventsIn = metrics.eventsIn();
        long framesOut = metrics.framesOut();
        double seconds = Math.max(now - lastTime, 1) / 1000.0;
        long eventsInRate = Math.round((eventsIn - lastEventsIn) / seconds);
        long framesOutRate = Math.round((framesOut - lastFramesOut) / seconds);
        lastEventsIn = eventsIn;
        lastFramesOut = framesOut;
        lastTime = now;
        Cluster cluster = cluster(metrics, seconds);

        Map<String, Integer> sockets = metrics.socketsByNamespace();
        List<CompletableFuture<List<Room>>> rooms = new ArrayList<>();
        for (Namespace namespace : server.namespaces().values()) {
            // A cluster that cannot answer leaves the rooms out for this second rather than the figures.
            rooms.add(namespace.fetchSockets().thenApply(members -> applicationRooms(namespace.name(), members))
                    .exceptionally(failure -> List.of()));
        }
        Map<String, Integer> byAddress = new HashMap<>();
        for (Connection connection : server.connections()) {
            // As the per-address caps count them: an IPv6 client by its network, not by each address it takes.
            byAddress.merge(server.options().addressKey(Objects.requireNonNullElse(connection.handshake().remoteAddress(), "unknown")),
                    1, Integer::sum);
        }
        Stats figures = new Stats(now, metrics.connections(), metrics.connectionsByWire(), topAddresses(byAddress),
                sockets.values().stream().mapToInt(Integer::intValue).sum(), sockets, List.of(),
                eventsInRate, framesOutRate, metrics.queuedBytes(), server.sendBudget().maxBytes(), metrics.largestQueueBytes(),
                metrics.slowConsumers(), metrics.sessionsAwaitingRecovery(), metrics.recoveries(), metrics.droppedVolatile(),
                metrics.listenerFailures(), cluster);
        return CompletableFuture.allOf(rooms.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<Room> all = rooms.stream().flatMap(room -> room.join().stream())
                    .sorted(Comparator.comparingInt(Room::members).reversed()
                            .thenComparing(Room::namespace).thenComparing(Room::name))
                    .limit(MAX_ROOMS).toList();
            Stats stats = figures.withRooms(all);
            history.add(stats);
            return stats;
        });
    }

    /** The cluster's figures, its publishes in the last {@code seconds}. */
    private Cluster cluster(Metrics metrics, double seconds) {
        ClusterStatus status = metrics.cluster();
        long publishes = status.publishes() - lastCluster.publishes();
        long nanos = status.publishNanos() - lastCluster.publishNanos();
        double p99 = p99Millis(lastCluster.publishBuckets(), status.publishBuckets(), publishes);
        lastCluster = status;
        return new Cluster(status.clustered(), status.nodes(), status.linkUp(), status.fenced(),
                Math.round(publishes / seconds), publishes == 0 ? 0 : nanos / 1e6 / publishes, p99,
                status.publishFailures(), status.queryTimeouts(), metrics.refusedUnavailable());
    }

    /** The bound of the bucket where 99 % of the {@code publishes} between two counts of the buckets fall. */
    private static double p99Millis(List<Long> before, List<Long> now, long publishes) {
        if (publishes == 0) {
            return 0;
        }
        long seen = 0;
        for (int i = 0; i < ClusterStatus.PUBLISH_BOUNDS_SECONDS.size(); i++) {
            seen += now.get(i) - before.get(i);
            if (seen >= Math.ceil(publishes * 0.99)) {
                return ClusterStatus.PUBLISH_BOUNDS_SECONDS.get(i) * 1000;
            }
        }
        return -1;
    }

    /**
     * The application's rooms among the connected sockets, with their member counts: every
     * socket has a room of its own and every user one too, the library's, not the application's.
     */
    private static List<Room> applicationRooms(String namespace, List<RemoteSocket> members) {
        Map<String, Integer> counts = new HashMap<>();
        for (RemoteSocket socket : members) {
            for (String room : socket.rooms()) {
                if (!room.equals(socket.id()) && !room.startsWith(USER_ROOM_PREFIX)) {
                    counts.merge(room, 1, Integer::sum);
                }
            }
        }
        return counts.entrySet().stream().map(e -> new Room(namespace, e.getKey(), e.getValue())).toList();
    }

    /** The addresses holding the most connections, most first; ties by address, so that the list does not shuffle. */
    private static List<Address> topAddresses(Map<String, Integer> byAddress) {
        return byAddress.entrySet().stream().map(e -> new Address(e.getKey(), e.getValue()))
                .sorted(Comparator.comparingInt(Address::connections).reversed().thenComparing(Address::address))
                .limit(MAX_ADDRESSES).toList();
    }
}
