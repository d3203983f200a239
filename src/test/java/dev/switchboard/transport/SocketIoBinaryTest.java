package dev.switchboard.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.protocol.Arguments;
import dev.switchboard.server.Namespace;
import dev.switchboard.server.Switchboard;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.NodeClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Binary arguments between the official Node {@code socket.io-client} 4.8 and the server, over
 * WebSocket and over long-polling only (BINARY_EVENT and BINARY_ACK, base64 {@code b} packets
 * on polling): events and acks both ways, nested binaries, a binary broadcast that a Socket.IO
 * client and a native Java client in one room both receive, and a binary event replayed intact
 * after a network cut.
 */
@Timeout(60)
class SocketIoBinaryTest {
    private static final byte[] BYTES = {0, 1, 2, (byte) 0xfe, (byte) 0xff, 'h', 'i'};
    private static final String BASE64 = Base64.getEncoder().encodeToString(BYTES);

    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
    private final List<String> disconnects = new CopyOnWriteArrayList<>();
    private TestServer server;
    private NodeClient node;

    @BeforeEach
    void start() throws Exception {
        server = TestServer.start(this::app);
        node = NodeClient.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        server.close();
    }

    private void app(Switchboard switchboard) {
        Namespace files = switchboard.of("/files");
        files.onConnection(socket -> {
            socket.join("room");
            // What the server got, read both ways, and the bytes reversed as a binary answer.
            socket.on("upload", event -> {
                byte[] bytes = event.arg(1, byte[].class);
                ByteBuffer buffer = event.arg(1, ByteBuffer.class);
                event.ack(event.arg(0, String.class), bytes.length, buffer.remaining(), reversed(bytes));
            });
            socket.on("nested", event -> {
                Map<?, ?> file = event.arg(0, Map.class);
                byte[] data = event.args().attachment(0);
                event.ack(file.get("name") + " " + data.length, Map.of("back", data));
            });
            socket.on("ask", event -> socket.timeout(Duration.ofSeconds(5)).emitWithAck("question", BYTES)
                    .thenAccept(answer -> answers.add(answer.get(0, String.class) + " "
                            + Base64.getEncoder().encodeToString(answer.get(1, byte[].class)))));
            socket.onDisconnect(reason -> disconnects.add(reason.text()));
        });
    }

    private static byte[] reversed(byte[] bytes) {
        byte[] out = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = bytes[bytes.length - 1 - i];
        }
        return out;
    }

    private void open(String name, int port, String transports) throws Exception {
        node.send("{'op':'open','name':'" + name + "','url':'http://127.0.0.1:" + port + "/files','ackReply':'four',"
                + "'options':{'transports':[" + transports + "]}}");
        node.next(name, "connect");
    }

    private static String binary(String base64) {
        return "{'$binary':'" + base64 + "'}";
    }

    private static String base64Of(JsonObject binary) {
        return binary.getString("$binary");
    }

    @ParameterizedTest
    @ValueSource(strings = {"'websocket'", "'polling'"})
    void binaryTravelsBothWaysInEventsAndAcks(String transport) throws Exception {
        open("a", server.port(), transport);

        node.send("{'op':'emitWithAck','name':'a','id':1,'event':'upload','args':['pic.png'," + binary(BASE64)
                + "],'timeout':5000}");
        JsonArray upload = node.next("a", "ack").getJsonArray("args");
        assertEquals("pic.png", upload.getString(0));
        assertEquals(BYTES.length, upload.getInt(1), "the handler got the bytes as byte[]");
        assertEquals(BYTES.length, upload.getInt(2), "and as a ByteBuffer");
        assertEquals(Base64.getEncoder().encodeToString(reversed(BYTES)), base64Of(upload.getJsonObject(3)));
        assertEquals("Buffer", upload.getJsonObject(3).getString("$type"), "the client got binary, not JSON");

        node.send("{'op':'emitWithAck','name':'a','id':2,'event':'nested','args':[{'name':'doc','data':"
                + binary(BASE64) + "}],'timeout':5000}");
        JsonArray nested = node.next("a", "ack").getJsonArray("args");
        assertEquals("doc " + BYTES.length, nested.getString(0));
        assertEquals(BASE64, base64Of(nested.getJsonObject(1).getJsonObject("back")));

        // The server's binary event; the client's ack echoes its arguments, binary included.
        node.send("{'op':'emit','name':'a','event':'ask','args':[]}");
        assertEquals(BASE64, base64Of(node.nextEvent("a", "question").getJsonArray("args").getJsonObject(0)));
        assertEquals("four " + BASE64, answers.poll(10, TimeUnit.SECONDS));
    }

    @Test
    void aBinaryBroadcastReachesASocketIoClientAndANativeClientInTheRoom() throws Exception {
        try (SwitchboardClient java = SwitchboardClient.connect(server.webSocketUri())) {
            ClientSocket native_ = java.socket("/files");
            BlockingQueue<byte[]> heard = new LinkedBlockingQueue<>();
            native_.on("blob", event -> heard.add(event.arg(1, byte[].class)));
            native_.whenConnected().get(10, TimeUnit.SECONDS);
            open("a", server.port(), "'websocket'");
            open("b", server.port(), "'polling'");

            server.switchboard().of("/files").to("room").emit("blob", "from the server", BYTES);

            assertArrayEquals(BYTES, heard.poll(10, TimeUnit.SECONDS));
            for (String name : List.of("a", "b")) {
                JsonArray args = node.nextEvent(name, "blob").getJsonArray("args");
                assertEquals("from the server", args.getString(0));
                assertEquals(BASE64, base64Of(args.getJsonObject(1)));
            }
        }
    }

    @Test
    void aBinaryEventMissedDuringACutIsReplayedIntact() throws Exception {
        try (CuttableProxy proxy = new CuttableProxy(server.port())) {
            open("a", proxy.port(), "'websocket'");
            Namespace files = server.switchboard().of("/files");
            proxy.cut();
            Await.until("the server noticed the cut", () -> !disconnects.isEmpty());
            files.emit("missed", BYTES, Map.of("more", reversed(BYTES)));

            assertTrue(node.next("a", "connect").getBoolean("recovered"), "socket.recovered");
            JsonArray args = node.nextEvent("a", "missed").getJsonArray("args");
            assertEquals(BASE64, base64Of(args.getJsonObject(0)));
            assertEquals(Base64.getEncoder().encodeToString(reversed(BYTES)),
                    base64Of(args.getJsonObject(1).getJsonObject("more")));
        }
    }

    @Test
    void theJavaClientSendsAndReceivesBytes() throws Exception {
        try (SwitchboardClient java = SwitchboardClient.connect(server.webSocketUri())) {
            ClientSocket socket = java.socket("/files");
            socket.on("question", event -> event.ack("four", event.arg(0, byte[].class)));
            socket.whenConnected().get(10, TimeUnit.SECONDS);

            Arguments upload = socket.emitWithAck("upload", "pic.png", ByteBuffer.wrap(BYTES)).get(10, TimeUnit.SECONDS);
            assertEquals(BYTES.length, upload.get(1, int.class));
            assertArrayEquals(reversed(BYTES), upload.get(3, byte[].class));

            socket.emit("ask");
            assertEquals("four " + BASE64, answers.poll(10, TimeUnit.SECONDS));
        }
    }
}
