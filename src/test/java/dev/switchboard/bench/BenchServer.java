package dev.switchboard.bench;

import dev.switchboard.adapter.redis.RedisCluster;
import dev.switchboard.transport.grizzly.StandaloneOptions;
import dev.switchboard.transport.grizzly.StandaloneServer;
import dev.switchboard.transport.grizzly.TyrusContainer;
import com.corundumstudio.socketio.SocketIOServer;
import io.netty.channel.Channel;
import io.socket.engineio.server.EngineIoServer;
import io.socket.engineio.server.JettyWebSocketHandler;
import io.socket.socketio.server.SocketIoServer;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.glassfish.grizzly.http.server.HttpServer;
import org.glassfish.grizzly.http.server.NetworkListener;
import org.eclipse.jetty.server.Server;
import org.glassfish.grizzly.strategies.WorkerThreadIOStrategy;

/**
 * A server under test on Grizzly/Tyrus or plain NIO, started by the harness as its own JVM so
 * that its CPU time, RSS and threads are its own: {@code switchboard} ({@link BenchApp} on the
 * standalone server; {@code switchboard-sio} is the same server, to which the generator speaks
 * Socket.IO), {@code switchboard-norecovery} (the same with connection-state recovery off),
 * {@code switchboard-redis} (the same as one node of a cluster on the Redis named by the third
 * argument), {@code raw} (the floor: {@link RawFloorEndpoint} on the same Grizzly/Tyrus container),
 * {@code floor} (the write floor: {@link WriteFloorServer}, no container at all) or a Java
 * Socket.IO peer ({@link NettySocketIoPeer}, {@link SocketIoJavaPeer}). It prints
 * {@code READY <port> [the peer's jars]} and stops when its standard input closes. On Tomcat and Jetty the same
 * application runs as a web application instead ({@link BenchWebapp}).
 */
public final class BenchServer {
    private BenchServer() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "switchboard";
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        RedisCluster cluster = mode.equals("switchboard-redis") ? RedisCluster.builder(args[2]).connect() : null;
        AutoCloseable server;
        int boundPort;
        String banner = "";
        if (mode.equals("raw")) {
            RawFloorHost host = RawFloorHost.start("127.0.0.1", port);
            server = host;
            boundPort = host.port();
        } else if (mode.equals("netty-socketio")) {
            NettySocketIoPeer peer = NettySocketIoPeer.start(port);
            server = peer;
            boundPort = peer.port();
            banner = jars(SocketIOServer.class, Channel.class);
        } else if (mode.equals("socketio-java")) {
            SocketIoJavaPeer peer = SocketIoJavaPeer.start(port);
            server = peer;
            boundPort = peer.port();
            banner = jars(SocketIoServer.class, EngineIoServer.class, JettyWebSocketHandler.class, Server.class);
        } else if (mode.equals("floor")) {
            WriteFloorServer floor = new WriteFloorServer(port, WriteFloorServer.PENDING_LIMIT);
            server = floor;
            boundPort = floor.port();
        } else {
            // The fleet opens 256 connections at a time from one address: no cap on those in flight.
            StandaloneServer http = StandaloneServer.start(BenchApp.create(!mode.equals("switchboard-norecovery"), cluster),
                    StandaloneOptions.builder().port(port).maxPending(100_000, 100_000).build());
            server = http;
            boundPort = http.port();
        }
        System.out.println("READY " + boundPort + banner);
        System.out.flush();
        // The harness holds our stdin; it closes when the harness is done or dies.
        while (System.in.read() >= 0) {
            // nothing to read; wait for the end
        }
        server.close();
        if (cluster != null) {
            cluster.close();
        }
        System.exit(0);
    }

    /** The jars a peer's classes come from, which name their versions, for the report's banner. */
    private static String jars(Class<?>... classes) {
        return Stream.of(classes).map(c -> " " + Path.of(c.getProtectionDomain().getCodeSource().getLocation().getPath()).getFileName())
                .collect(Collectors.joining());
    }

    /**
     * The floor on a Grizzly listener set up as {@code StandaloneServer} sets up its own
     * (worker-thread I/O strategy, no HTTP idle timeout, Tyrus mounted as an add-on), so that the
     * floor and Switchboard differ by the framework only.
     */
    record RawFloorHost(HttpServer http, TyrusContainer container, int port) implements AutoCloseable {
        static RawFloorHost start(String hostName, int port) throws Exception {
            HttpServer http = new HttpServer();
            NetworkListener listener = new NetworkListener("raw-floor", hostName, port);
            listener.getTransport().setIOStrategy(WorkerThreadIOStrategy.getInstance());
            listener.getKeepAlive().setIdleTimeoutInSeconds(-1);
            http.addListener(listener);
            TyrusContainer container = new TyrusContainer(Set.of(RawFloorEndpoint.class), (1 << 20) + 1024);
            listener.registerAddOn(container.addOn());
            http.start();
            container.start("", listener.getPort());
            return new RawFloorHost(http, container, listener.getPort());
        }

        @Override
        public void close() {
            container.stop();
            http.shutdownNow();
        }
    }
}
