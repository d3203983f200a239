package dev.switchboard.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.protocol.Arguments;
import dev.switchboard.server.ConnectionRejectedException;
import dev.switchboard.server.Namespace;
import dev.switchboard.server.Switchboard;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.EnginePolling;
import dev.switchboard.testing.NodeClient;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The official Node {@code socket.io-client} 4.8 against the Socket.IO endpoint, over WebSocket:
 * namespaces with auth, middleware refusal, acks both ways, rooms shared with a native client,
 * recovery after a network cut, another path. And binary arguments (namespace {@code /files}),
 * over WebSocket and long-polling only: events and acks both ways, nested binaries, a binary
 * broadcast that a Socket.IO client and a native Java client in one room both receive, a binary
 * event replayed intact after a cut, the Java client sending and receiving {@code byte[]}.
 */
@Timeout(60)
class SocketIoClientTest {
    private static final int STREAM = 300;
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
        Namespace chat = switchboard.of("/chat");
        chat.use(socket -> {
            Map<?, ?> auth = socket.handshake().auth(Map.class);
            if (auth == null || !"secret".equals(auth.get("token"))) {
                throw new ConnectionRejectedException("invalid token", Map.of("hint", "ask for a token"));
            }
        });
        chat.onConnection(socket -> {
            socket.on("join", event -> {
                socket.join(event.arg(0, String.class));
                event.ack("joined", event.arg(0, String.class));
            });
            socket.on("say", event -> socket.to(event.arg(0, String.class)).emit("said", event.arg(1, String.class)));
            socket.on("quiz", event -> socket.timeout(Duration.ofSeconds(5)).emitWithAck("question", "2+2")
                    .thenAccept(answer -> answers.add(answer.get(0, String.class) + " " + answer.get(1, String.class))));
            socket.on("silence", event -> { });
            if ("stream".equals(socket.handshake().auth(Map.class).get("mode"))) {
                // From the connect answer on, across the upgrade from polling to WebSocket.
                Thread streamer = new Thread(() -> {
                    for (int i = 1; i <= STREAM; i++) {
                        socket.emit("seq", i);
                        LockSupport.parkNanos(1_000_000);
                    }
                }, "seq-stream");
                streamer.setDaemon(true);
                streamer.start();
            }
            if ("greet".equals(socket.handshake().auth(Map.class).get("mode"))) {
                socket.emit("you", socket.id());
            }
            socket.onDisconnect(reason -> disconnects.add(reason.text()));
        });
        files(switchboard);
    }

    /** Binary arguments on {@code /files}, without auth. */
    private void files(Switchboard switchboard) {
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

    private String url(int port, String namespace) {
        return "http://127.0.0.1:" + port + namespace;
    }

    private void open(String name, int port, String token) throws Exception {
        open(name, port, token, "'transports':['websocket'],");
    }

    private void open(String name, int port, String token, String options) throws Exception {
        node.send("{'op':'open','name':'" + name + "','url':'" + url(port, "/chat") + "','ackReply':'four',"
                + "'options':{" + options + "'auth':{'token':'" + token + "'}}}");
    }

    /** Acks both ways, and an event from the server, over whatever transport the socket uses now. */
    private void talk(String name) throws Exception {
        node.send("{'op':'emitWithAck','name':'" + name + "','id':1,'event':'join','args':['lobby'],'timeout':5000}");
        assertEquals("[\"joined\",\"lobby\"]", node.next(name, "ack").getJsonArray("args").toString());
        node.send("{'op':'emit','name':'" + name + "','event':'quiz','args':[]}");
        assertEquals("four 2+2", answers.poll(10, TimeUnit.SECONDS), "the client's ack answers the server's question");
        server.switchboard().of("/chat").to("lobby").emit("news", "hello " + name);
        assertEquals("hello " + name, NodeClient.firstArg(node.nextEvent(name, "news")));
    }

    @Test
    void connectsWithTheDefaultOptionsByPollingThenUpgrades() throws Exception {
        open("a", server.port(), "secret", "");
        // The upgrade may finish before or after the namespace's connect answer: both are right.
        node.next("a", "connect");
        assertEquals("websocket", node.next("a", "upgrade").getString("transport"), "upgraded from polling");
        talk("a");
    }

    @Test
    void noEventIsLostOrDuplicatedAcrossTheUpgrade() throws Exception {
        node.send("{'op':'open','name':'a','url':'" + url(server.port(), "/chat") + "',"
                + "'options':{'auth':{'token':'secret','mode':'stream'}}}");
        node.next("a", "connect");
        List<String> seen = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        int upgradedAfter = -1;
        while (seen.size() < STREAM) {
            JsonObject report = node.next(r -> "seq".equals(r.getString("event", null)) || "upgrade".equals(r.getString("type")));
            if ("upgrade".equals(report.getString("type"))) {
                upgradedAfter = seen.size();
            } else {
                seen.add(NodeClient.firstArg(report));
                expected.add(String.valueOf(seen.size()));
            }
        }
        assertEquals(expected, seen);
        assertTrue(upgradedAfter >= 0, "the upgrade came before the stream ended");
    }

    @Test
    void worksOverPollingOnly() throws Exception {
        open("a", server.port(), "secret", "'transports':['polling'],");
        assertEquals("polling", node.next("a", "connect").getString("transport"));
        talk("a");
    }

    @Test
    void anEmitFromOnConnectionArrivesOverPolling() throws Exception {
        node.send("{'op':'open','name':'a','url':'" + url(server.port(), "/chat") + "',"
                + "'options':{'transports':['polling'],'auth':{'token':'secret','mode':'greet'}}}");
        assertEquals("polling", node.next("a", "connect").getString("transport"));
        String id = server.switchboard().of("/chat").sockets().keySet().iterator().next();
        assertEquals(id, NodeClient.firstArg(node.nextEvent("a", "you")));
    }

    @Test
    void connectsToANamespaceWithAuthAndAcksBothWays() throws Exception {
        open("a", server.port(), "secret");
        JsonObject connected = node.next("a", "connect");
        assertFalse(connected.getBoolean("recovered"));
        assertEquals("websocket", connected.getString("transport"));
        String id = connected.getString("id");
        assertTrue(server.switchboard().of("/chat").sockets().containsKey(id), "the client's id is the server's socket id");
        talk("a");
    }

    @Test
    void anAckTheServerNeverSendsTimesOutOnTheClient() throws Exception {
        open("a", server.port(), "secret");
        node.next("a", "connect");
        node.send("{'op':'emitWithAck','name':'a','id':2,'event':'silence','args':[],'timeout':300}");
        assertEquals("operation has timed out", node.next("a", "ack").getString("error"));
    }

    @Test
    void middlewareRefusesWithItsMessageAndData() throws Exception {
        open("a", server.port(), "wrong");
        JsonObject refused = node.next("a", "connect_error");
        assertEquals("invalid token", refused.getString("message"));
        assertEquals("ask for a token", refused.getJsonObject("data").getString("hint"));
        assertTrue(server.switchboard().of("/chat").sockets().isEmpty());
    }

    @Test
    void anUnknownNamespaceIsRefused() throws Exception {
        node.send("{'op':'open','name':'a','url':'" + url(server.port(), "/nowhere") + "','options':{'transports':['websocket']}}");
        assertEquals("Invalid namespace", node.next("a", "connect_error").getString("message"));
    }

    @Test
    void sharesARoomWithANativeClient() throws Exception {
        try (SwitchboardClient java = SwitchboardClient.connect(server.webSocketUri())) {
            ClientSocket native_ = java.socket("/chat", Map.of("token", "secret"));
            BlockingQueue<String> heard = new LinkedBlockingQueue<>();
            native_.on("said", event -> heard.add(event.arg(0, String.class)));
            native_.whenConnected().get(10, TimeUnit.SECONDS);
            native_.emitWithAck("join", "room1").get(10, TimeUnit.SECONDS);

            open("a", server.port(), "secret");
            node.next("a", "connect");
            node.send("{'op':'emitWithAck','name':'a','id':1,'event':'join','args':['room1'],'timeout':5000}");
            node.next("a", "ack");

            node.send("{'op':'emit','name':'a','event':'say','args':['room1','from node']}");
            assertEquals("from node", heard.poll(10, TimeUnit.SECONDS));
            native_.emit("say", "room1", "from java");
            assertEquals("from java", NodeClient.firstArg(node.nextEvent("a", "said")));
        }
    }

    @Test
    void servesAnotherPathWhenConfigured() throws Exception {
        try (TestServer other = TestServer.start(TestServer.options().socketIoPath("/rt/live/").build(), this::app)) {
            // The client's default transports: long-polling first, then the upgrade, both at the path.
            open("a", other.port(), "secret", "'path':'/rt/live/',");
            node.next("a", "connect");
            node.next("a", "upgrade");
            talkOn(other, "a");
            open("b", other.port(), "secret", "'path':'/socket.io/','reconnection':false,");
            assertEquals("connect_error", node.next(report -> report.getString("name").equals("b")
                    && !report.getString("type").equals("upgrade")).getString("type"), "nothing at the default path");
        }
    }

    private void talkOn(TestServer other, String name) throws Exception {
        node.send("{'op':'emitWithAck','name':'" + name + "','id':1,'event':'join','args':['lobby'],'timeout':5000}");
        assertEquals("[\"joined\",\"lobby\"]", node.next(name, "ack").getJsonArray("args").toString());
        other.switchboard().of("/chat").to("lobby").emit("news", "hello " + name);
        assertEquals("hello " + name, NodeClient.firstArg(node.nextEvent(name, "news")));
    }

    @Test
    void recoversAfterANetworkCutWithTheMissedEventsOnceAndInOrder() throws Exception {
        try (CuttableProxy proxy = new CuttableProxy(server.port())) {
            open("a", proxy.port(), "secret");
            String id = node.next("a", "connect").getString("id");
            Namespace chat = server.switchboard().of("/chat");
            chat.emit("seq", 1);
            assertEquals("1", NodeClient.firstArg(node.nextEvent("a", "seq")));

            proxy.cut();
            Await.until("the server noticed the cut", () -> !disconnects.isEmpty());
            for (int i = 2; i <= 4; i++) {
                chat.emit("seq", i);
            }
            JsonObject back = node.next("a", "connect");
            assertTrue(back.getBoolean("recovered"), "socket.recovered");
            assertEquals(id, back.getString("id"));
            chat.emit("seq", 5);
            List<String> seen = new ArrayList<>();
            while (seen.size() < 4) {
                seen.add(NodeClient.firstArg(node.nextEvent("a", "seq")));
            }
            assertEquals(List.of("2", "3", "4", "5"), seen);
            assertEquals(List.of("transport close"), disconnects);
        }
    }

    private static byte[] reversed(byte[] bytes) {
        byte[] out = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = bytes[bytes.length - 1 - i];
        }
        return out;
    }

    private void openFiles(String name, int port, String transports) throws Exception {
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
        openFiles("a", server.port(), transport);

        node.send("{'op':'emitWithAck','name':'a','id':1,'event':'upload','args':['pic.png'," + binary(BASE64)
                + "],'timeout':5000}");
        JsonObject uploadAck = node.next("a", "ack");
        assertEquals(JsonValue.NULL, uploadAck.get("error"), () -> uploadAck + ", the server's disconnects: " + disconnects);
        JsonArray upload = uploadAck.getJsonArray("args");
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
            openFiles("a", server.port(), "'websocket'");
            openFiles("b", server.port(), "'polling'");
            // The connect answers go out before the connection listeners join the room.
            Namespace files = server.switchboard().of("/files");
            Await.until("3 sockets in the room", () -> files.to("room").count().join() == 3);

            files.to("room").emit("blob", "from the server", BYTES);

            assertArrayEquals(BYTES, heard.poll(10, TimeUnit.SECONDS));
            for (String name : List.of("a", "b")) {
                JsonArray args = node.nextEvent(name, "blob").getJsonArray("args");
                assertEquals("from the server", args.getString(0));
                assertEquals(BASE64, base64Of(args.getJsonObject(1)));
            }
        }
    }

    /**
     * As the reference server: the open packet offers the WebSocket to a long-polling client only.
     * socket.io-client probes every upgrade offered, so a client on {@code transports: ["websocket"]}
     * offered one opened a second WebSocket per connection, which the server then refused.
     */
    @Test
    void theOpenPacketOffersAnUpgradeToLongPollingClientsOnly() throws Exception {
        try (RawClient client = RawClient.connect(URI.create("ws://127.0.0.1:" + server.port()
                + "/socket.io/?EIO=4&transport=websocket"))) {
            String open = client.next();
            assertTrue(open.startsWith("0{") && open.contains("\"upgrades\":[]"), open);
        }
        // EnginePolling.open asserts the offer of the WebSocket.
        EnginePolling.open(server.port(), "");
    }

    @Test
    void aBinaryEventMissedDuringACutIsReplayedIntact() throws Exception {
        try (CuttableProxy proxy = new CuttableProxy(server.port())) {
            openFiles("a", proxy.port(), "'websocket'");
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
