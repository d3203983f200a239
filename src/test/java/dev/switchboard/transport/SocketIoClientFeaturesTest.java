package dev.switchboard.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.server.ConnectionRejectedException;
import dev.switchboard.server.Event;
import dev.switchboard.server.Namespace;
import dev.switchboard.server.Switchboard;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.NodeClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * socket.io-client 4.8's features in combination, as an application uses them: retried emits
 * ({@code retries}, {@code ackTimeout}) across a drop, answers that come after the client's
 * timeout, namespaces sharing one connection, binary missed while away, the transport options
 * with recovery, an {@code auth} function whose token changes, and the client's ways of leaving.
 * Between the client and the server runs a proxy that cuts or holds the connections.
 */
@Timeout(60)
class SocketIoClientFeaturesTest {
    private static final byte[] BYTES = {0, 1, 2, (byte) 0xfe, (byte) 0xff};
    private static final String BASE64 = Base64.getEncoder().encodeToString(BYTES);
    private static final String LATE_MILLIS = "1500";
    /** Runs of the "work" listener, by its argument. */
    private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    private final AtomicInteger lateAnswers = new AtomicInteger();
    /** How each socket ended, as "namespace reason". */
    private final List<String> disconnects = new CopyOnWriteArrayList<>();
    private final Set<String> validTokens = ConcurrentHashMap.newKeySet();
    private final List<String> tokensSeen = new CopyOnWriteArrayList<>();
    private TestServer server;
    private CuttableProxy proxy;
    private NodeClient node;

    @BeforeEach
    void start() throws Exception {
        validTokens.add("t1");
        server = TestServer.start(this::app);
        proxy = new CuttableProxy(server.port());
        node = NodeClient.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        proxy.close();
        server.close();
    }

    /**
     * Namespaces {@code /a} and {@code /b}, alike. "work" answers what it was given and how many
     * times it ran for it; given "cut", its first run cuts the connection before answering, given
     * "late", its first run answers after {@link #LATE_MILLIS} from another thread.
     */
    private void app(Switchboard switchboard) {
        for (String name : List.of("/a", "/b")) {
            Namespace namespace = switchboard.of(name);
            namespace.use(socket -> {
                Map<?, ?> auth = socket.handshake().auth(Map.class);
                Object token = auth == null ? null : auth.get("token");
                if (token != null && !validTokens.contains(token)) {
                    throw new ConnectionRejectedException("invalid token", null);
                }
                tokensSeen.add(String.valueOf(token));
            });
            namespace.onConnection(socket -> {
                socket.on("work", event -> {
                    String what = event.arg(0, String.class);
                    int run = runs.computeIfAbsent(what, k -> new AtomicInteger()).incrementAndGet();
                    if ("cut".equals(what) && run == 1) {
                        proxy.cut();
                    }
                    if ("late".equals(what) && run == 1) {
                        answerLater(event, run);
                    } else {
                        event.ack("done", what, run);
                    }
                });
                socket.on("echo", event -> event.ack((Object) event.arg(0, byte[].class)));
                socket.on("kickMe", event -> socket.disconnect());
                socket.onDisconnect(reason -> disconnects.add(name + " " + reason.text()));
            });
        }
    }

    private void answerLater(Event event, int run) {
        Thread later = new Thread(() -> {
            try {
                Thread.sleep(Long.parseLong(LATE_MILLIS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            event.ack("done", "late", run);
            lateAnswers.incrementAndGet();
        }, "late-answer");
        later.setDaemon(true);
        later.start();
    }

    private String url(String namespace) {
        return "http://127.0.0.1:" + proxy.port() + namespace;
    }

    private JsonObject open(String name, String namespace, String options) throws Exception {
        node.send("{'op':'open','name':'" + name + "','url':'" + url(namespace) + "','options':{" + options + "}}");
        return node.next(name, "connect");
    }

    /** Socket "b" on {@code /b}, over the connection of socket "a". */
    private String openSecondOnTheSameConnection() throws Exception {
        node.send("{'op':'open','name':'b','url':'" + url("/b") + "','manager':'a','options':{}}");
        String id = node.next("b", "connect").getString("id");
        assertEquals(1, server.switchboard().connectionCount(), "one connection carries both");
        return id;
    }

    /**
     * Cuts the client off and keeps it off until its sockets {@code names} saw the drop: over
     * long-polling a cut between two requests goes unseen, the next request taking a new connection.
     * The server may not have noticed yet; the client's return ends the old connection.
     */
    private void cutOff(String... names) throws Exception {
        proxy.refuse(true);
        proxy.cut();
        for (String name : names) {
            node.next(name, "disconnect");
        }
    }

    private void letBackIn() {
        proxy.refuse(false);
    }

    private JsonObject assertRecovered(String name, String id) throws Exception {
        JsonObject back = node.next(name, "connect");
        assertTrue(back.getBoolean("recovered"), () -> back + ", the server saw " + disconnects);
        assertEquals(id, back.getString("id"));
        return back;
    }

    private static String args(JsonObject report) {
        return report.getJsonArray("args").toString();
    }

    /**
     * socket.io-client sends a retry under a new ack id; the reference server runs the listener
     * for each try that reaches it, and so does this one (message ids are the native protocol's).
     */
    @ParameterizedTest
    @ValueSource(strings = {"'websocket'", "'polling'"})
    void aRetriedEmitWhoseAnswerWasLostInADropIsAnsweredAfterTheRecovery(String transport) throws Exception {
        String id = open("a", "/a", "'transports':[" + transport + "],'retries':3,'ackTimeout':5000").getString("id");
        node.send("{'op':'emitWithAck','name':'a','id':1,'event':'work','args':['cut']}");
        assertRecovered("a", id);
        JsonObject ack = node.next("a", "ack");
        assertEquals(JsonValue.NULL, ack.get("error"), ack::toString);
        assertEquals("[\"done\",\"cut\",2]", args(ack));
        assertEquals(2, runs.get("cut").get());
    }

    @Test
    void aRetryAfterALateAnswerGetsItsOwnAnswerAndTheLateOneIsIgnored() throws Exception {
        open("a", "/a", "'transports':['websocket'],'retries':2,'ackTimeout':500");
        node.send("{'op':'emitWithAck','name':'a','id':1,'event':'work','args':['late']}");
        JsonObject ack = node.next("a", "ack");
        assertEquals(JsonValue.NULL, ack.get("error"), ack::toString);
        assertEquals("[\"done\",\"late\",2]", args(ack));
        Await.until("the late answer went out", () -> lateAnswers.get() == 1);
        node.send("{'op':'emitWithAck','name':'a','id':2,'event':'work','args':['next']}");
        JsonObject next = node.next("a", "ack");
        assertEquals(2, next.getInt("id"), () -> "the first emit was answered once: " + next);
        assertEquals("[\"done\",\"next\",1]", args(next));
    }

    @Test
    void anAnswerAfterTheClientsTimeoutLeavesNothingBehind() throws Exception {
        String id = open("a", "/a", "'transports':['websocket']").getString("id");
        node.send("{'op':'emitWithAck','name':'a','id':1,'event':'work','args':['late'],'timeout':300}");
        assertEquals("operation has timed out", node.next("a", "ack").getString("error"));
        Await.until("the late answer went out", () -> lateAnswers.get() == 1);
        node.send("{'op':'emitWithAck','name':'a','id':2,'event':'work','args':['other'],'timeout':5000}");
        JsonObject next = node.next("a", "ack");
        assertEquals(2, next.getInt("id"), next::toString);
        assertEquals("[\"done\",\"other\",1]", args(next));
        assertEquals(Set.of(id), server.switchboard().of("/a").sockets().keySet());
        assertEquals(List.of(), disconnects);
    }

    @ParameterizedTest
    @ValueSource(strings = {"'websocket'", "'polling'"})
    void binaryEmittedWhileAwayWithRetriesIsAnsweredAfterTheRecovery(String transport) throws Exception {
        String id = open("a", "/a", "'transports':[" + transport + "],'retries':2,'ackTimeout':3000").getString("id");
        cutOff("a");
        for (int i = 1; i <= 3; i++) {
            node.send("{'op':'emitWithAck','name':'a','id':" + i + ",'event':'echo','args':[{'$binary':'" + BASE64 + "'}]}");
        }
        letBackIn();
        assertRecovered("a", id);
        for (int i = 1; i <= 3; i++) {
            JsonObject ack = node.next("a", "ack");
            assertEquals(i, ack.getInt("id"));
            assertEquals(JsonValue.NULL, ack.get("error"), ack::toString);
            assertEquals(BASE64, ack.getJsonArray("args").getJsonObject(0).getString("$binary"), ack::toString);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"'websocket'", "'polling'"})
    void twoNamespacesOnOneConnectionRecoverEachWithItsMissedEvents(String transport) throws Exception {
        String a = open("a", "/a", "'transports':[" + transport + "]").getString("id");
        String b = openSecondOnTheSameConnection();
        Namespace nsA = server.switchboard().of("/a");
        Namespace nsB = server.switchboard().of("/b");
        nsA.emit("seq", "a1");
        nsB.emit("seq", "b1");
        assertEquals("a1", NodeClient.firstArg(node.nextEvent("a", "seq")));
        assertEquals("b1", NodeClient.firstArg(node.nextEvent("b", "seq")));

        cutOff("a", "b");
        for (int i = 2; i <= 4; i++) {
            nsA.emit("seq", "a" + i);
            nsB.emit("seq", "b" + i, BYTES);
        }
        letBackIn();
        assertRecovered("a", a);
        assertRecovered("b", b);
        nsA.emit("seq", "a5");
        nsB.emit("seq", "b5", BYTES);
        List<String> seenA = new ArrayList<>();
        List<String> seenB = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            seenA.add(NodeClient.firstArg(node.nextEvent("a", "seq")));
            JsonArray args = node.nextEvent("b", "seq").getJsonArray("args");
            seenB.add(args.getString(0) + ":" + args.getJsonObject(1).getString("$binary"));
        }
        assertEquals(List.of("a2", "a3", "a4", "a5"), seenA);
        assertEquals(List.of("b2:" + BASE64, "b3:" + BASE64, "b4:" + BASE64, "b5:" + BASE64), seenB);
        assertEquals(Set.of("/a transport close", "/b transport close"), Set.copyOf(disconnects));
    }

    /** socket.io-client keeps a socket's pid after it left or was sent away: it comes back as a new socket. */
    @ParameterizedTest
    @ValueSource(strings = {"'websocket'", "'polling'"})
    void oneNamespaceLeftOrKickedThenBackWhileTheOtherStays(String transport) throws Exception {
        String a = open("a", "/a", "'transports':[" + transport + "]").getString("id");
        String b = openSecondOnTheSameConnection();
        node.send("{'op':'close','name':'a'}");
        assertEquals("io client disconnect", node.next("a", "disconnect").getString("reason"));
        Await.until("a left", () -> disconnects.size() == 1);
        assertEquals("/a client disconnect", disconnects.get(0));
        node.send("{'op':'connect','name':'a'}");
        JsonObject again = node.next("a", "connect");
        assertFalse(again.getBoolean("recovered"));
        assertNotEquals(a, again.getString("id"));

        node.send("{'op':'emit','name':'a','event':'kickMe','args':[]}");
        assertEquals("io server disconnect", node.next("a", "disconnect").getString("reason"));
        node.send("{'op':'emitWithAck','name':'b','id':1,'event':'work','args':['still'],'timeout':5000}");
        assertEquals("[\"done\",\"still\",1]", args(node.next("b", "ack")));
        node.send("{'op':'connect','name':'a'}");
        String third = node.next("a", "connect").getString("id");
        assertEquals(List.of("/a client disconnect", "/a server disconnect"), disconnects);

        cutOff("a", "b");
        server.switchboard().of("/a").emit("seq", "a1");
        server.switchboard().of("/b").emit("seq", "b1");
        letBackIn();
        assertRecovered("a", third);
        assertRecovered("b", b);
        assertEquals("a1", NodeClient.firstArg(node.nextEvent("a", "seq")));
        assertEquals("b1", NodeClient.firstArg(node.nextEvent("b", "seq")));
        assertEquals(1, server.switchboard().connectionCount());
    }

    @Test
    void aKickOfTheWholeConnectionEndsBothNamespaces() throws Exception {
        open("a", "/a", "'transports':['websocket']");
        String b = openSecondOnTheSameConnection();
        server.switchboard().of("/b").sockets().get(b).disconnect(true);
        assertEquals("io server disconnect", node.next("a", "disconnect").getString("reason"));
        assertEquals("io server disconnect", node.next("b", "disconnect").getString("reason"));
        Await.until("both ended", () -> disconnects.size() == 2);
        assertEquals(Set.of("/a server disconnect", "/b server disconnect"), Set.copyOf(disconnects));
        assertTrue(server.switchboard().of("/a").detachedSessions().isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {"'transports':['polling']", "'upgrade':false", "'transports':['websocket'],'rememberUpgrade':true",
            "'rememberUpgrade':true"})
    void binaryMissedWhileAwayIsReplayedWhateverTheTransportOptions(String options) throws Exception {
        String id = open("a", "/a", options).getString("id");
        Namespace nsA = server.switchboard().of("/a");
        nsA.emit("seq", "1", BYTES);
        assertEquals("1", NodeClient.firstArg(node.nextEvent("a", "seq")));
        cutOff("a");
        nsA.emit("seq", "2", BYTES, Map.of("nested", BYTES));
        letBackIn();
        assertRecovered("a", id);
        JsonArray args = node.nextEvent("a", "seq").getJsonArray("args");
        assertEquals("2", args.getString(0));
        assertEquals(BASE64, args.getJsonObject(1).getString("$binary"));
        assertEquals(BASE64, args.getJsonObject(2).getJsonObject("nested").getString("$binary"));
        node.send("{'op':'emitWithAck','name':'a','id':1,'event':'echo','args':[{'$binary':'" + BASE64 + "'}],'timeout':5000}");
        JsonObject ack = node.next("a", "ack");
        assertEquals(BASE64, ack.getJsonArray("args").getJsonObject(0).getString("$binary"), ack::toString);
    }

    @Test
    void aLongReplayWithBinaryCrossesTheUpgradeInOrder() throws Exception {
        String id = open("a", "/a", "").getString("id");
        node.next("a", "upgrade");
        Namespace nsA = server.switchboard().of("/a");
        proxy.cut();
        Await.until("dropped", () -> !disconnects.isEmpty());
        for (int i = 1; i <= 500; i++) {
            nsA.emit("seq", String.valueOf(i), i % 7 == 0 ? BYTES : "x".repeat(100));
        }
        assertRecovered("a", id);
        for (int i = 501; i <= 600; i++) {
            nsA.emit("seq", String.valueOf(i));
        }
        for (int i = 1; i <= 600; i++) {
            assertEquals(String.valueOf(i), NodeClient.firstArg(node.nextEvent("a", "seq")));
        }
    }

    @Test
    void uncompressedEmitsAndEmitsMadeWhileReconnectionWasOffArrive() throws Exception {
        String id = open("a", "/a", "'transports':['websocket']").getString("id");
        String big = "x".repeat(5000);
        node.send("{'op':'emit','name':'a','event':'work','args':['" + big + "'],'flags':{'compress':false}}");
        node.send("{'op':'emit','name':'a','event':'work','args':['small'],'flags':{'compress':true}}");
        Await.until("both arrived", () -> runs.containsKey(big) && runs.containsKey("small"));
        node.send("{'op':'reconnection','name':'a','value':false}");
        proxy.cut();
        node.next("a", "disconnect");
        node.send("{'op':'emit','name':'a','event':'work','args':['buffered']}");
        node.send("{'op':'reconnection','name':'a','value':true}");
        node.send("{'op':'connect','name':'a'}");
        assertRecovered("a", id);
        Await.until("the buffered emit arrived", () -> runs.containsKey("buffered"));
    }

    @Test
    void anAuthFunctionsNewTokenIsTheOneTheRecoveryChecks() throws Exception {
        node.send("{'op':'open','name':'a','url':'" + url("/a") + "','authFunction':true,"
                + "'options':{'transports':['websocket'],'auth':{'token':'t1'}}}");
        String id = node.next("a", "connect").getString("id");
        validTokens.add("t2");
        validTokens.remove("t1");
        node.send("{'op':'setAuth','name':'a','auth':{'token':'t2'}}");
        cutOff("a");
        server.switchboard().of("/a").emit("seq", "missed");
        letBackIn();
        assertRecovered("a", id);
        assertEquals("missed", NodeClient.firstArg(node.nextEvent("a", "seq")));
        assertEquals(List.of("t1", "t2"), tokensSeen);
        assertEquals("t2", server.switchboard().of("/a").sockets().get(id).handshake().auth(Map.class).get("token"));
    }

    @Test
    void aTokenRefusedAtRecoveryEndsOneNamespaceWhileTheOtherRecovers() throws Exception {
        node.send("{'op':'open','name':'a','url':'" + url("/a") + "','authFunction':true,"
                + "'options':{'transports':['websocket'],'auth':{'token':'t1'}}}");
        node.next("a", "connect");
        String b = openSecondOnTheSameConnection();
        validTokens.remove("t1");
        cutOff("a", "b");
        server.switchboard().of("/b").emit("seq", "b1");
        letBackIn();
        assertEquals("invalid token", node.next("a", "connect_error").getString("message"));
        assertRecovered("b", b);
        assertEquals("b1", NodeClient.firstArg(node.nextEvent("b", "seq")));
        assertTrue(server.switchboard().of("/a").detachedSessions().isEmpty(), "the refused session ended");
    }

    /**
     * engine.io-client closes its WebSocket without a close code ({@code io.engine.close()}, and
     * whenever its Manager closes), which containers report as 1000 or 1005; the reference server
     * counts any close of a transport as {@code transport close}, and the client comes back with
     * its pid. A client that leaves says so with DISCONNECT: {@code socket.disconnect()}.
     */
    @ParameterizedTest
    @ValueSource(strings = {"'websocket'", "'polling'", "'polling','websocket'"})
    void anEngineCloseIsRecoveredFromAndADisconnectLeaves(String transports) throws Exception {
        String id = open("a", "/a", "'transports':[" + transports + "]").getString("id");
        if (transports.contains(",")) {
            node.next("a", "upgrade");
        }
        server.switchboard().of("/a").emit("seq", "1");
        assertEquals("1", NodeClient.firstArg(node.nextEvent("a", "seq")));
        node.send("{'op':'closeEngine','name':'a'}");
        server.switchboard().of("/a").emit("seq", "2");
        assertRecovered("a", id);
        assertEquals("2", NodeClient.firstArg(node.nextEvent("a", "seq")));
        assertEquals(List.of("/a transport close"), disconnects);

        node.send("{'op':'close','name':'a'}");
        Await.until("left", () -> disconnects.size() == 2);
        assertEquals("/a client disconnect", disconnects.get(1));
        assertTrue(server.switchboard().of("/a").detachedSessions().isEmpty(), "nothing kept for a client that left");
    }

    /**
     * The server disconnects one namespace while its client, not told yet, still emits on it: the
     * client cannot know. The other namespace is not lost for it (the reference server closes the
     * connection as a transport close, which the other socket recovers from).
     */
    @ParameterizedTest
    @ValueSource(strings = {"'websocket'", "'polling'"})
    void anEventOnANamespaceTheServerJustDisconnectedDoesNotCostTheOther(String transport) throws Exception {
        String a = open("a", "/a", "'transports':[" + transport + "]").getString("id");
        String b = openSecondOnTheSameConnection();
        proxy.holdToClients();
        server.switchboard().of("/a").sockets().get(a).disconnect();
        node.send("{'op':'emitWithAck','name':'a','id':1,'event':'work','args':['on-a'],'timeout':5000}");
        Await.until("the server read the event", () -> server.switchboard().metrics().protocolErrors() == 1);
        proxy.release();

        assertEquals("io server disconnect", node.next("a", "disconnect").getString("reason"));
        assertEquals("socket has been disconnected", node.next("a", "ack").getString("error"));
        node.send("{'op':'emitWithAck','name':'b','id':2,'event':'work','args':['on-b'],'timeout':5000}");
        JsonObject ack = node.next("b", "ack");
        assertEquals("[\"done\",\"on-b\",1]", args(ack), () -> ack + ", the server saw " + disconnects);
        server.switchboard().of("/b").emit("seq", "b1");
        assertEquals("b1", NodeClient.firstArg(node.nextEvent("b", "seq")));
        assertEquals(List.of("/a server disconnect"), disconnects);
        assertEquals(Set.of(b), server.switchboard().of("/b").sockets().keySet());
        assertFalse(runs.containsKey("on-a"));
    }
}
