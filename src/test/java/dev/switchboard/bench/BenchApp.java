package dev.switchboard.bench;

import dev.switchboard.adapter.redis.RedisCluster;
import dev.switchboard.server.Connection;
import dev.switchboard.server.Switchboard;
import dev.switchboard.server.SwitchboardOptions;
import java.time.Duration;
import java.util.Map;

/**
 * The benchmark's application on Switchboard, the same on every container: {@code join(room)}
 * with an ack, {@code echo(payload)} acked with the payload, {@code publish(room, payload)}
 * emitting {@code msg(payload)} to everyone in the room, {@code announce(n)} acked and answered by
 * {@code notice(n)} to the whole namespace when that socket disconnects (as a chat says "X left"), and {@code stats(gc)} acked with
 * {@code {heap, queue, conns}}, as {@code bench/socketio/server.js} and {@link RawFloorEndpoint} do.
 */
final class BenchApp {
    private BenchApp() {
    }

    /**
     * Options differ from the defaults only where the defaults would refuse the load itself: the
     * per-connection event rate limit (100/s, burst 200), which the generator's single publisher
     * connection exceeds by design, and the connection caps. Everything else, recovery included,
     * is as shipped.
     *
     * @param recovery false turns connection-state recovery off (an experiment, not a default)
     * @param cluster  the Redis cluster this node joins, rooms and sessions shared as docs/SCALING.md
     *                 shows, or null for a node on its own
     */
    static Switchboard create(boolean recovery, RedisCluster cluster) {
        SwitchboardOptions.Builder options = SwitchboardOptions.builder()
                .eventRate(10_000_000, 10_000_000)
                .maxConnections(1_000_000, 1_000_000);
        if (!recovery) {
            options.recoveryWindow(Duration.ZERO);
        }
        if (cluster != null) {
            options.adapter(cluster.adapters()).sessionStore(cluster.sessionStore());
        }
        Switchboard server = Switchboard.create(options.build());
        server.onConnection(socket -> {
            socket.on("join", event -> {
                socket.join(event.arg(0, String.class));
                event.ack();
            });
            socket.on("echo", event -> event.ack(event.args().raw(0)));
            socket.on("announce", event -> {
                Object departure = event.args().raw(0);
                socket.onDisconnect(reason -> server.emit("notice", departure));
                event.ack();
            });
            socket.on("publish", event -> server.to(event.arg(0, String.class)).emit("msg", event.args().raw(1)));
            socket.on("stats", event -> event.ack(Map.of(
                    "heap", Heap.used(event.arg(0, boolean.class)),
                    "queue", server.connections().stream().mapToLong(Connection::queuedBytes).max().orElse(0),
                    "conns", server.connectionCount())));
        });
        return server;
    }
}
