package dev.switchboard.bench;

import dev.switchboard.server.Connection;
import dev.switchboard.server.Switchboard;
import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.transport.grizzly.StandaloneServer;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Map;

/**
 * A server under test, started by the harness as its own JVM so that its CPU time, RSS and
 * threads are its own: {@code switchboard} (Switchboard on the standalone Grizzly server),
 * {@code switchboard-norecovery} (the same with connection-state recovery off) or {@code raw}
 * (the floor: {@link RawFloorEndpoint} on the same Grizzly/Tyrus container). It prints
 * {@code READY <port>} and stops when its standard input closes.
 *
 * <p>Every target implements the same four events, as {@code bench/socketio/server.js} does:
 * {@code join(room)} with an ack, {@code echo(payload)} acked with the payload,
 * {@code publish(room, payload)} emitting {@code msg(payload)} to everyone in the room, and
 * {@code stats(gc)} acked with {@code {heap, queue, conns}}.
 */
public final class BenchServer {
    private BenchServer() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "switchboard";
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        AutoCloseable server;
        int boundPort;
        if (mode.equals("raw")) {
            RawFloorEndpoint.Host host = RawFloorEndpoint.start("127.0.0.1", port);
            server = host;
            boundPort = host.port();
        } else {
            Switchboard switchboard = create(!mode.equals("switchboard-norecovery"));
            StandaloneServer http = StandaloneServer.start(switchboard, "127.0.0.1", port, null);
            server = http;
            boundPort = http.port();
        }
        System.out.println("READY " + boundPort);
        System.out.flush();
        // The harness holds our stdin; it closes when the harness is done or dies.
        while (System.in.read() >= 0) {
            // nothing to read; wait for the end
        }
        server.close();
        System.exit(0);
    }

    /**
     * Switchboard with the benchmark's application. Options differ from the defaults only where
     * the defaults would refuse the load itself: the per-connection event rate limit (100/s,
     * burst 200), which the generator's single publisher connection exceeds by design, and the
     * connection caps. Everything else, recovery included, is as shipped.
     *
     * @param recovery false turns connection-state recovery off (an experiment, not a default)
     */
    static Switchboard create(boolean recovery) {
        SwitchboardOptions.Builder options = SwitchboardOptions.builder()
                .eventRate(10_000_000, 10_000_000)
                .maxConnections(1_000_000, 1_000_000);
        if (!recovery) {
            options.recoveryWindow(Duration.ZERO);
        }
        Switchboard server = Switchboard.create(options.build());
        server.onConnection(socket -> {
            socket.on("join", event -> {
                socket.join(event.arg(0, String.class));
                event.ack();
            });
            socket.on("echo", event -> event.ack(event.args().raw(0)));
            socket.on("publish", event -> server.to(event.arg(0, String.class)).emit("msg", event.args().raw(1)));
            socket.on("stats", event -> event.ack(Map.of(
                    "heap", heapUsed(event.arg(0, boolean.class)),
                    "queue", server.connections().stream().mapToLong(Connection::queuedBytes).max().orElse(0),
                    "conns", server.connectionCount())));
        });
        return server;
    }

    /** Heap in use, after full collections when {@code gc} (what is left is what is live). */
    static long heapUsed(boolean gc) {
        if (gc) {
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
