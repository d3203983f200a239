package dev.switchboard.bench;

import io.socket.engineio.server.EngineIoServer;
import io.socket.engineio.server.EngineIoServerOptions;
import io.socket.engineio.server.JettyWebSocketHandler;
import io.socket.socketio.server.SocketIoNamespace;
import io.socket.socketio.server.SocketIoServer;
import io.socket.socketio.server.SocketIoSocket;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;
import org.eclipse.jetty.websocket.servlet.WebSocketServlet;
import org.eclipse.jetty.websocket.servlet.WebSocketServletFactory;
import org.json.JSONObject;

/**
 * The socket.io-server-java peer of the benchmark: socket.io-server on engine.io-server, upgraded
 * by engine.io-server-jetty's {@link JettyWebSocketHandler} on Jetty 9.4 (the Jetty that handler is
 * written for), serving the same events as {@link BenchApp} and {@code bench/socketio/server.js}
 * with a 25 s / 20 s heartbeat and 1 MiB frames. It has no connection-state recovery, and its
 * {@code stats} answer says {@code queue: 0}: the handler writes each frame with a blocking send,
 * so nothing queues in the server but in Jetty's buffers, which it does not show.
 */
record SocketIoJavaPeer(Server jetty, EngineIoServer engineIo) implements AutoCloseable {

    static SocketIoJavaPeer start(int port) throws Exception {
        EngineIoServer engineIo = new EngineIoServer(EngineIoServerOptions.newFromDefault()
                .setPingInterval(25_000)
                .setPingTimeout(20_000));
        SocketIoNamespace namespace = new SocketIoServer(engineIo).namespace("/");
        // The namespace keeps its sockets to itself: counted here for the stats answer.
        AtomicInteger connections = new AtomicInteger();
        namespace.on("connection", connection -> {
            SocketIoSocket socket = (SocketIoSocket) connection[0];
            connections.incrementAndGet();
            socket.on("disconnect", reason -> connections.decrementAndGet());
            socket.on("join", args -> {
                socket.joinRoom((String) args[0]);
                ack(args).sendAcknowledgement();
            });
            socket.on("echo", args -> ack(args).sendAcknowledgement(args[0]));
            socket.on("publish", args -> namespace.broadcast((String) args[0], "msg", args[1]));
            socket.on("announce", args -> {
                Object departure = args[0];
                socket.on("disconnect", reason -> namespace.broadcast(null, "notice", departure));
                ack(args).sendAcknowledgement();
            });
            socket.on("stats", args -> ack(args).sendAcknowledgement(new JSONObject()
                    .put("heap", Heap.used((Boolean) args[0])).put("queue", 0).put("conns", connections.get())));
        });
        Server jetty = new Server(new InetSocketAddress("127.0.0.1", port));
        ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
        context.setContextPath("/");
        context.addServlet(new ServletHolder(new WebSocketServlet() {
            @Override
            public void configure(WebSocketServletFactory factory) {
                factory.getPolicy().setMaxTextMessageSize((1 << 20) + 1024);
                factory.setCreator((request, response) -> new JettyWebSocketHandler(engineIo));
            }
        }), "/socket.io/*");
        jetty.setHandler(context);
        jetty.start();
        return new SocketIoJavaPeer(jetty, engineIo);
    }

    /** The acknowledgement callback socket.io-server passes as the last argument of an event that asks for one. */
    private static SocketIoSocket.ReceivedByLocalAcknowledgementCallback ack(Object[] args) {
        return (SocketIoSocket.ReceivedByLocalAcknowledgementCallback) args[args.length - 1];
    }

    int port() {
        return ((ServerConnector) jetty.getConnectors()[0]).getLocalPort();
    }

    @Override
    public void close() throws Exception {
        engineIo.shutdown();
        jetty.stop();
    }
}
