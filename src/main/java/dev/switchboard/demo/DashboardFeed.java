package dev.switchboard.demo;

import dev.switchboard.api.RemoteSocket;
import dev.switchboard.protocol.socketio.SocketIoCodec;
import dev.switchboard.server.Connection;
import dev.switchboard.server.Metrics;
import dev.switchboard.server.Namespace;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.engineio.EngineIo;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The figures of {@code webapp/dashboard.html}, on the namespace {@code /dashboard}: once a
 * second, every socket there gets a {@code stats} event with the server's connections, sockets
 * per namespace, rooms with their member counts, events in and frames out per second, send-queue
 * depths against the server-wide bound, slow consumers cut off, recoveries, volatile events
 * dropped and application callbacks that threw. A socket that connects first gets {@code
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
    private static final String USER_ROOM_PREFIX = Namespace.userRoom("");

    /** A room and how many sockets are in it. */
    public record Room(String namespace, String name, int members) {
    }

    /**
     * One second of the server.
     *
     * @param connectionsByWire connections by wire format and transport: {@code native}, {@code socket.io websocket},
     *                        {@code socket.io polling}
     * @param sockets         connected sockets by namespace
     * @param rooms           the application's rooms (the largest {@value #MAX_ROOMS}), without the room of each socket and user
     * @param queuedBytes     bytes waiting in all send queues
     * @param queueBound      the bound on {@code queuedBytes}, past which the fullest queues are cut off
     * @param largestQueue    bytes waiting in the fullest send queue
     * @param slowConsumers   clients cut off as slow consumers since the server started
     * @param recovering      dropped sessions waiting for their client
     * @param recoveries      sessions recovered since the server started
     * @param listenerFailures application callbacks (listeners, middleware) that threw since the server started
     */
    public record Stats(long time, int connections, Map<String, Integer> connectionsByWire, int totalSockets, Map<String, Integer> sockets, List<Room> rooms,
                       long eventsInPerSecond, long framesOutPerSecond, long queuedBytes, long queueBound, long largestQueue,
                       long slowConsumers, int recovering, long recoveries, long droppedVolatile,
                       long listenerFailures) {

        Stats withRooms(List<Room> newRooms) {
            return new Stats(time, connections, connectionsByWire, totalSockets, sockets, newRooms, eventsInPerSecond, framesOutPerSecond,
                    queuedBytes, queueBound, largestQueue, slowConsumers, recovering, recoveries, droppedVolatile,
                    listenerFailures);
        }
    }

    private final Switchboard server;
    private final Recent<Stats> history = new Recent<>(HISTORY);
    private long lastEventsIn;
    private long lastFramesOut;
    private long lastTime;

    private DashboardFeed(Switchboard server) {
        this.server = server;
        lastEventsIn = server.metrics().eventsIn();
        lastFramesOut = server.metrics().framesOut();
        lastTime = System.currentTimeMillis();
    }

    /** Serves the figures on {@code server}'s {@code /dashboard} namespace, measured on {@code timer}. */
    public static void install(Switchboard server, ScheduledExecutorService timer) {
        DashboardFeed feed = new DashboardFeed(server);
        Namespace dashboard = server.of(NAMESPACE);
        // On a cluster each node measures itself, so each serves the pages connected to it.
        String viewers = "viewers@" + UUID.randomUUID().toString().substring(0, 8);
        dashboard.onConnection(socket -> {
            socket.join(viewers);
            socket.emit("history", feed.history.list());
        });
        timer.scheduleAtFixedRate(() -> DemoApp.logFailures("dashboard feed", feed.measure().thenAccept(stats -> {
            if (!dashboard.sockets().isEmpty()) {
                dashboard.to(viewers).asVolatile().emit("stats", stats);
            }
        })), PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
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

        Map<String, Integer> sockets = metrics.socketsByNamespace();
        List<CompletableFuture<List<Room>>> rooms = new ArrayList<>();
        for (Namespace namespace : server.namespaces().values()) {
            rooms.add(namespace.fetchSockets().thenApply(members -> applicationRooms(namespace.name(), members)));
        }
        Map<String, Integer> byWire = new TreeMap<>();
        EngineIo engine = EngineIo.of(server);
        for (Connection connection : server.connections()) {
            byWire.merge(wireOf(connection, engine), 1, Integer::sum);
        }
        Stats figures = new Stats(now, metrics.connections(), byWire,
                sockets.values().stream().mapToInt(Integer::intValue).sum(), sockets, List.of(),
                eventsInRate, framesOutRate, metrics.queuedBytes(), server.sendBudget().maxBytes(), metrics.largestQueueBytes(),
                metrics.slowConsumers(), metrics.sessionsAwaitingRecovery(), metrics.recoveries(), metrics.droppedVolatile(),
                metrics.listenerFailures());
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

    private static String wireOf(Connection connection, EngineIo engine) {
        if (!(connection.codec() instanceof SocketIoCodec)) {
            return "native";
        }
        return engine.polling(connection.id()) ? "socket.io polling" : "socket.io websocket";
    }
}
