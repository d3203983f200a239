package dev.switchboard.adapter.redis;

import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.server.Switchboard;
import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * One node of a test cluster: an in-process server whose adapter is a {@link RedisCluster}, its
 * sockets named by the {@code user} of their auth. {@link #main} runs one in its own JVM, for
 * tests that kill or freeze a node.
 */
record ClusterNode(RedisCluster cluster, TestServer server) implements AutoCloseable {
    /** Long enough for a node's death to be noticed and its clients to come back elsewhere. */
    static final Duration RECOVERY_WINDOW = Duration.ofSeconds(20);

    /** Short timeouts, so that faults show within a test's patience. */
    static RedisCluster.Builder settings(String redisUri, String prefix) {
        return RedisCluster.builder(redisUri).prefix(prefix).publishTimeout(Duration.ofSeconds(1))
                .queryTimeout(Duration.ofSeconds(2)).heartbeatInterval(Duration.ofMillis(200))
                .nodeTimeout(Duration.ofSeconds(4)).logRetention(Duration.ofSeconds(2));
    }

    static ClusterNode start(RedisCluster.Builder settings) {
        return start(settings, RECOVERY_WINDOW, HttpApiSettings.off());
    }

    static ClusterNode start(RedisCluster.Builder settings, Duration recoveryWindow) {
        return start(settings, recoveryWindow, HttpApiSettings.off());
    }

    /** With the HTTP API and {@code /metrics} as {@code api} says. */
    static ClusterNode start(RedisCluster.Builder settings, HttpApiSettings api) {
        return start(settings, RECOVERY_WINDOW, api);
    }

    /** With server options of its own on top of the cluster's (replay bounds, say). */
    static ClusterNode start(RedisCluster.Builder settings, Duration recoveryWindow,
                             UnaryOperator<SwitchboardOptions.Builder> options) {
        return start(settings, recoveryWindow, HttpApiSettings.off(), options);
    }

    static ClusterNode start(RedisCluster.Builder settings, Duration recoveryWindow, HttpApiSettings api) {
        return start(settings, recoveryWindow, api, UnaryOperator.identity());
    }

    private static ClusterNode start(RedisCluster.Builder settings, Duration recoveryWindow, HttpApiSettings api,
                                     UnaryOperator<SwitchboardOptions.Builder> options) {
        RedisCluster cluster = settings.connect();
        TestServer server = TestServer.start(options.apply(TestServer.options().adapter(cluster.adapters())
                .sessionStore(cluster.sessionStore()).recoveryWindow(recoveryWindow)).build(), ClusterNode::named, api);
        return new ClusterNode(cluster, server);
    }

    /**
     * Names sockets after their auth's user; a client joins a room by emitting {@code join} with
     * its name (acked). Presence is tracked in the rooms whose name starts with {@code #}.
     */
    private static void named(Switchboard sb) {
        sb.root().trackPresence(room -> room.startsWith("#"));
        sb.use(socket -> {
            Map<?, ?> auth = socket.handshake().auth(Map.class);
            if (auth != null && auth.get("user") != null) {
                socket.userId(auth.get("user").toString());
            }
        });
        sb.root().onConnection(socket -> socket.on("join", String.class, (room, event) -> {
            socket.join(room);
            event.ack(room);
        }));
    }

    /**
     * Makes {@code emit} once Redis takes it again (after a restart or a freeze): an emit Redis
     * refused was not made, so trying again sends it once.
     */
    static void emitOnceRedisTakesIt(Runnable emit) {
        Await.until("an emit goes through Redis", () -> {
            try {
                emit.run();
                return true;
            } catch (ClusterException e) {
                return false;
            }
        });
    }

    Switchboard switchboard() {
        return server.switchboard();
    }

    @Override
    public void close() {
        server.close();
        cluster.close();
    }

    /**
     * Prints {@code node <id> <websocket uri>}, then serves until killed. Arguments: the Redis URI,
     * the key prefix and, optionally, how long the logs are kept and the recovery window
     * (ISO-8601, e.g. {@code PT30S}).
     */
    public static void main(String[] args) throws InterruptedException {
        RedisCluster.Builder settings = settings(args[0], args[1]);
        if (args.length > 2) {
            settings.logRetention(Duration.parse(args[2]));
        }
        ClusterNode node = start(settings, args.length > 3 ? Duration.parse(args[3]) : RECOVERY_WINDOW);
        System.out.println("node " + node.cluster().nodeId() + " " + node.server().webSocketUri());
        Thread.currentThread().join();
    }
}
