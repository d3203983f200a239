package dev.switchboard.demo;

import dev.switchboard.protocol.socketio.SocketIoCodec;
import dev.switchboard.server.Connection;
import dev.switchboard.server.Metrics;
import dev.switchboard.server.Namespace;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.engineio.EngineIo;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
        dashboard.onConnection(socket -> socket.emit("history", feed.history.list()));
        timer.scheduleAtFixedRate(DemoApp.logFailures("dashboard feed", () -> {
            Stats stats = feed.measure();
            if (!dashboard.sockets().isEmpty()) {
                dashboard.asVolatile().emit("stats", stats);
            }
        }), PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    private Stats measure() {
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

        Map<String, Integer> sockets = new LinkedHashMap<>();
        List<Room> rooms = new ArrayList<>();
        int recovering = 0;
        for (Namespace namespace : server.namespaces().values().stream()
                .sorted(Comparator.comparing(Namespace::name)).toList()) {
            sockets.put(namespace.name(), namespace.sockets().size());
            recovering += namespace.detachedSessions().size();
            for (String room : namespace.rooms()) {
                // Every socket has a room of its own and every user one too: the library's, not the application's.
                boolean ownRoom = namespace.sockets().containsKey(room) || namespace.detachedSessions().containsKey(room)
                        || room.startsWith(USER_ROOM_PREFIX);
                if (!ownRoom) {
                    rooms.add(new Room(namespace.name(), room, namespace.in(room).count()));
                }
            }
        }
        rooms.sort(Comparator.comparingInt(Room::members).reversed()
                .thenComparing(Room::namespace).thenComparing(Room::name));

        long largest = 0;
        Map<String, Integer> byWire = new TreeMap<>();
        EngineIo engine = EngineIo.of(server);
        for (Connection connection : server.connections()) {
            largest = Math.max(largest, connection.queuedBytes());
            byWire.merge(wireOf(connection, engine), 1, Integer::sum);
        }
        Stats stats = new Stats(now, server.connectionCount(), byWire,
                sockets.values().stream().mapToInt(Integer::intValue).sum(), sockets,
                List.copyOf(rooms.subList(0, Math.min(rooms.size(), MAX_ROOMS))),
                eventsInRate, framesOutRate, server.sendBudget().queuedBytes(), server.sendBudget().maxBytes(), largest,
                metrics.slowConsumers(), recovering, metrics.recoveries(), metrics.droppedVolatile(),
                metrics.listenerFailures());
        history.add(stats);
        return stats;
    }

    private static String wireOf(Connection connection, EngineIo engine) {
        if (!(connection.codec() instanceof SocketIoCodec)) {
            return "native";
        }
        return engine.polling(connection.id()) ? "socket.io polling" : "socket.io websocket";
    }
}
