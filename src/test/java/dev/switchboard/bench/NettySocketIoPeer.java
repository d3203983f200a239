package dev.switchboard.bench;

import com.corundumstudio.socketio.AckMode;
import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.SocketConfig;
import com.corundumstudio.socketio.SocketIOServer;
import com.corundumstudio.socketio.Transport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Map;

/**
 * The netty-socketio peer of the benchmark: the same events as {@link BenchApp} and
 * {@code bench/socketio/server.js}, with settings matching theirs where netty-socketio has the
 * knob (WebSocket only, 25 s / 20 s heartbeat, no compression, 1 MiB frames). It has no
 * connection-state recovery, and its {@code stats} answer says {@code queue: 0}: netty-socketio
 * does not show what it holds for one client.
 */
record NettySocketIoPeer(SocketIOServer server, int port) implements AutoCloseable {

    static NettySocketIoPeer start(int port) {
        Configuration config = new Configuration();
        config.setHostname("127.0.0.1");
        config.setPort(port == 0 ? freePort() : port);
        config.setTransports(Transport.WEBSOCKET);
        config.setPingInterval(25_000);
        config.setPingTimeout(20_000);
        config.setMaxFramePayloadLength((1 << 20) + 1024);
        config.setMaxHttpContentLength((1 << 20) + 1024);
        config.setWebsocketCompression(false);
        config.setHttpCompression(false);
        config.setAckMode(AckMode.MANUAL);
        SocketConfig socket = new SocketConfig();
        socket.setReuseAddress(true);
        // The fleet opens 256 connections at a time.
        socket.setAcceptBackLog(1024);
        config.setSocketConfig(socket);
        SocketIOServer server = new SocketIOServer(config);
        server.addEventListener("join", String.class, (client, room, ack) -> {
            client.joinRoom(room);
            ack.sendAckData();
        });
        server.addEventListener("echo", Object.class, (client, payload, ack) -> ack.sendAckData(payload));
        server.addMultiTypeEventListener("publish", (client, args, ack) ->
                server.getRoomOperations(args.<String>first()).sendEvent("msg", args.<Object>second()), String.class, Object.class);
        server.addEventListener("announce", Object.class, (client, departure, ack) -> {
            client.set("departure", departure);
            ack.sendAckData();
        });
        server.addDisconnectListener(client -> {
            if (client.has("departure")) {
                server.getBroadcastOperations().sendEvent("notice", (Object) client.get("departure"));
            }
        });
        server.addEventListener("stats", Boolean.class, (client, gc, ack) -> ack.sendAckData(Map.of(
                "heap", Heap.used(gc), "queue", 0, "conns", server.getAllClients().size())));
        server.start();
        return new NettySocketIoPeer(server, config.getPort());
    }

    /** netty-socketio binds the port it is given: a free one, found the usual way. */
    private static int freePort() {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        server.stop();
    }
}
