package dev.switchboard.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.server.Namespace;
import dev.switchboard.testing.TestServer;
import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Socket;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The official Java Socket.IO client ({@code io.socket:socket.io-client} 2.x) with its default
 * options (long-polling, then WebSocket): it connects with auth, emits with an ack, answers the
 * server's ack and receives a broadcast.
 */
@Timeout(60)
class SocketIoJavaClientTest {
    @Test
    void connectsEmitsWithAcksAndReceivesBroadcasts() throws Exception {
        BlockingQueue<String> answers = new LinkedBlockingQueue<>();
        try (TestServer server = TestServer.start(switchboard -> {
            Namespace chat = switchboard.of("/chat");
            chat.onConnection(socket -> {
                socket.join("lobby");
                socket.on("greet", event -> event.ack("hi " + socket.handshake().auth(Map.class).get("name")));
                socket.on("quiz", event -> socket.emitWithAck("question", "2+2")
                        .thenAccept(answer -> answers.add(answer.get(0, String.class))));
            });
        })) {
            IO.Options options = IO.Options.builder().setAuth(Map.of("name", "Duke")).build();
            Socket socket = IO.socket(URI.create("http://127.0.0.1:" + server.port() + "/chat"), options);
            BlockingQueue<String> seen = new LinkedBlockingQueue<>();
            socket.on(Socket.EVENT_CONNECT, args -> seen.add("connected"));
            socket.on("news", args -> seen.add("news " + args[0]));
            socket.on("question", args -> ((Ack) args[args.length - 1]).call("four"));
            socket.connect();
            try {
                assertEquals("connected", seen.poll(10, TimeUnit.SECONDS));

                socket.emit("greet", new Object[] {"there"}, reply -> seen.add("ack " + reply[0]));
                assertEquals("ack hi Duke", seen.poll(10, TimeUnit.SECONDS));

                socket.emit("quiz");
                assertEquals("four", answers.poll(10, TimeUnit.SECONDS));

                server.switchboard().of("/chat").to("lobby").emit("news", "extra");
                assertEquals("news extra", seen.poll(10, TimeUnit.SECONDS));
            } finally {
                socket.close();
            }
        }
    }
}
