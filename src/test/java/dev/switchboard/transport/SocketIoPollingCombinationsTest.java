package dev.switchboard.transport;

import static dev.switchboard.testing.EnginePolling.get;
import static dev.switchboard.testing.EnginePolling.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.server.Socket;
import dev.switchboard.server.Switchboard;
import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.EnginePolling;
import dev.switchboard.testing.NodeClient;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import dev.switchboard.transport.grizzly.StandaloneOptions;
import dev.switchboard.transport.grizzly.StandaloneServer;
import jakarta.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Long-polling combined with the rest: a server-side close, the send budget, the upgrade probe,
 * binary across the upgrade, a send that fails after the upgrade, slow listeners, recovery after a
 * cut. And the Socket.IO wire's recovery after a question the server asked, or a volatile event,
 * just before a cut, and after a fresh start. Each case was found by a review that combined features each tested alone,
 * through raw HTTP and WebSocket requests and the real socket.io-client 4.8, and says what the reference server
 * (socket.io 4.8, engine.io 6) does and what a user sees.
 */
@Timeout(120)
class SocketIoPollingCombinationsTest {
    private final List<String> disconnects = new CopyOnWriteArrayList<>();
    private final List<String> answers = new CopyOnWriteArrayList<>();
    private TestServer server;
    private NodeClient node;

    @AfterEach
    void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private void start(SwitchboardOptions options) {
        server = TestServer.start(options, this::app);
    }

    private void app(Switchboard switchboard) {
        switchboard.onConnection(socket -> {
            // Two events, then the server closes the client's whole connection.
            socket.on("kick", event -> {
                socket.emit("a", 1);
                socket.emit("b", 2);
                socket.disconnect(true);
            });
            // The server asks the client a question; the client's answer is kept.
            socket.on("ask", event -> socket.timeout(Duration.ofSeconds(5)).emitWithAck("question", "2+2")
                    .thenAccept(answer -> answers.add(answer.get(0, String.class))));
            socket.onDisconnect(reason -> disconnects.add(reason.text()));
        });
        // A stream of binary events from the connect answer on, across the upgrade.
        switchboard.of("/stream").onConnection(socket -> {
            Thread streamer = new Thread(() -> {
                for (int i = 1; i <= 300; i++) {
                    socket.emit("seq", i, new byte[] {(byte) i, (byte) (i >> 8), 7});
                    LockSupport.parkNanos(1_000_000);
                }
            }, "binary-stream");
            streamer.setDaemon(true);
            streamer.start();
        });
    }

    /** Binary events streamed while socket.io-client upgrades from polling: none lost, duplicated or reordered. */
    @Test
    void realClientGetsABinaryStreamAcrossTheUpgradeWhole() throws Exception {
        start(TestServer.options().build());
        node = NodeClient.start();
        node.send("{'op':'open','name':'s','url':'http://127.0.0.1:" + server.port() + "/stream','options':{}}");
        node.next("s", "connect");
        List<String> seen = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        while (seen.size() < 300) {
            JsonObject report = node.nextEvent("s", "seq");
            int n = report.getJsonArray("args").getInt(0);
            String bytes = report.getJsonArray("args").getJsonObject(1).getString("$binary");
            byte[] decoded = Base64.getDecoder().decode(bytes);
            seen.add(n + ":" + ((decoded[0] & 0xff) | (decoded[1] & 0xff) << 8) + ":" + decoded.length);
            expected.add(seen.size() + ":" + seen.size() + ":3");
        }
        assertEquals(expected, seen);
    }

    /**
     * The server emits two events and closes the connection ({@code socket.disconnect(true)}) while
     * the client has no GET waiting. The session stays for the client's next GETs: the first takes
     * both events, the next the close alone (socket.io-client drops the events of a payload that
     * also carries the close). Before, the sid was forgotten at once and that GET got 400: both
     * events lost, and the client saw a transport error.
     */
    @Test
    void aServerCloseOverPollingDeliversWhatWasBufferedThenTheClose() throws Exception {
        start(TestServer.options().build());
        String sid = connectedSession();
        URI session = session(sid);
        assertEquals("ok", post(session, "42[\"kick\"]").body());
        HttpResponse<String> next = get(session);
        assertEquals("1", get(session).body());
        // With recovery on (the default) each event carries its offset last: 42["a",1,"<offset>"].
        String seen = next.statusCode() + " " + next.body();
        assertTrue(next.statusCode() == 200 && next.body().contains("42[\"a\",1") && next.body().contains("42[\"b\",2")
                && next.body().endsWith("\u001e41"), "the GET after the server emitted a, b and closed: " + seen);
    }

    /**
     * A closed session waits a heartbeat for its client's last GET, out of the connection count;
     * closing is cheap to provoke, so those kept are bounded by {@code maxConnections}: past it, a
     * closed session is forgotten at once, and its next GET is told it is unknown.
     */
    @Test
    void closedSessionsKeptForTheirLastGetAreBoundedByTheConnectionCap() throws Exception {
        start(TestServer.options().maxConnections(3, 3).build());
        List<URI> kicked = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            URI session = session(connectedSession());
            assertEquals("ok", post(session, "42[\"kick\"]").body());
            kicked.add(session);
            Await.until("the session closed", () -> disconnects.size() == kicked.size());
        }
        for (URI session : kicked.subList(0, 3)) {
            assertTrue(get(session).body().endsWith("\u001e41"), "what was sent before the close");
        }
        HttpResponse<String> forgotten = get(kicked.get(3));
        assertEquals(400, forgotten.statusCode(), forgotten.body());
    }

    /** The same over WebSocket, for contrast: both events arrive, then the close. */
    @Test
    void webSocketServerCloseDeliversEventsEmittedBeforeIt() {
        start(TestServer.options().build());
        try (RawClient client = RawClient.connect(URI.create("ws://127.0.0.1:" + server.port()
                + "/socket.io/?EIO=4&transport=websocket"))) {
            assertTrue(client.next().startsWith("0{"));
            client.send("40");
            assertTrue(client.next().startsWith("40{"));
            client.send("42[\"kick\"]");
            String a = client.next();
            String b = client.next();
            assertTrue(a.startsWith("42[\"a\",1") && b.startsWith("42[\"b\",2"), a + " " + b);
            assertEquals("41", client.next(), "the namespace's disconnect, before the close");
            client.awaitClose();
        }
    }

    /** The same through the real socket.io-client 4.8, on both transports: a and b, then the disconnect. */
    @ParameterizedTest
    @ValueSource(strings = {"'websocket'", "'polling'"})
    void realClientReceivesEventsEmittedRightBeforeTheServerCloses(String transport) throws Exception {
        start(TestServer.options().build());
        node = NodeClient.start();
        node.send("{'op':'open','name':'c','url':'http://127.0.0.1:" + server.port() + "/','options':{'transports':["
                + transport + "],'reconnection':false}}");
        node.next("c", "connect");
        node.send("{'op':'emit','name':'c','event':'kick','args':[]}");
        assertEquals("1", NodeClient.firstArg(node.nextEvent("c", "a")));
        assertEquals("2", NodeClient.firstArg(node.nextEvent("c", "b")));
        // Told of the kick, as socket.io's own server tells it: it does not come back by itself.
        assertEquals("io server disconnect", node.next("c", "disconnect").getString("reason"));
    }

    /**
     * A polling client that stops polling while the server sends to it: once the buffer reaches
     * maxPayload, the send that filled it waits for a GET to take the buffer. The heartbeat then
     * ends the session, and that send's bytes leave the server-wide send budget (they stayed
     * reserved for good, one frame per such session, until the budget evicted healthy clients).
     */
    @Test
    void pollingSendBudgetIsReleasedWhenASessionWithAFullBufferEnds() throws Exception {
        // The first ping comes after the connect: a loaded machine took more than 500 ms to connect,
        // and the ping came first (or the session had ended).
        start(TestServer.options().pingInterval(Duration.ofSeconds(2)).pingTimeout(Duration.ofMillis(500))
                .maxPayloadBytes(65_536).build());
        String big = "x".repeat(40_000);
        for (int i = 0; i < 3; i++) {
            String sid = connectedSession();
            URI session = session(sid);
            Socket socket = Await.value("the socket", () -> server.switchboard().root().sockets().values().stream()
                    .findFirst().orElse(null));
            // No GET waits from here on: the client stopped polling.
            socket.emit("big", big);
            socket.emit("big", big);
            socket.emit("big", big);
            Await.until("the heartbeat ended the session", () -> server.switchboard().connectionCount() == 0
                    && server.switchboard().root().sockets().isEmpty());
        }
        Await.until("the send budget is empty once every connection ended",
                () -> server.switchboard().sendBudget().queuedBytes() == 0);
    }

    /**
     * WebSockets opened with a polling session's sid that never send "5": one probes at a time
     * (the others are refused at once, so probes are bounded by sessions, which maxConnections
     * bounds), and the one probing is closed when its session ends. Before, all five stayed open,
     * counted nowhere, after their session ended.
     */
    @Test
    void probeWebSocketsAreOneAtATimeAndEndWithTheirSession() throws Exception {
        // The default heartbeat: this client neither polls nor answers pings, and a short one ended
        // its session (1 s) before a loaded machine had opened the probes.
        start(TestServer.options().maxConnections(1, 1).build());
        String sid = openPolling();
        URI session = session(sid);
        assertEquals("ok", post(session, "40").body());
        assertEquals(503, get(polling("EIO=4&transport=polling")).statusCode(), "maxConnections is 1");
        List<RawClient> probes = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                probes.add(RawClient.connect(URI.create("ws://127.0.0.1:" + server.port()
                        + "/socket.io/?EIO=4&transport=websocket&sid=" + sid)));
            }
            Await.until("the probes after the first are refused", () -> probes.subList(1, 5).stream().allMatch(RawClient::isClosed));
            assertTrue(!probes.get(0).isClosed(), "the first probe is open while its session is");
            // The client leaves: its polling session ends.
            post(session, "1");
            Await.until("the session ended", () -> server.switchboard().connectionCount() == 0);
            Await.until("the probe ended with its session", () -> probes.get(0).isClosed());
        } finally {
            probes.forEach(RawClient::abort);
        }
    }

    /**
     * The client probes (2probe, 3probe) but the WebSocket goes away before "5": the client goes on
     * polling, and its GETs wait for packets again, as the reference server's do once the probe
     * closes. Before, every GET was answered at once with a noop for the rest of the session: a
     * busy loop of requests (587 in a second).
     */
    @Test
    void pollingWaitsAgainAfterAProbeThatNeverCompletes() throws Exception {
        start(TestServer.options().pingInterval(Duration.ofSeconds(1)).pingTimeout(Duration.ofSeconds(1)).build());
        String sid = connectedSession();
        URI session = session(sid);
        probe(sid).close();
        // A GET that waits returns with the heartbeat's ping, a second later; a noop returns at once.
        Await.until("a GET waits for packets again", () -> millisOfAGet(session) >= 500);
    }

    /**
     * A probe that neither upgrades nor ends, on a session that stays alive (its client polls and
     * answers pings), is closed after a heartbeat's time (pingInterval + pingTimeout): it has no
     * heartbeat of its own.
     */
    @Test
    void aProbeThatNeverUpgradesIsClosedAfterAHeartbeat() throws Exception {
        // A ping after 2 s, answered within 1 s: a loaded machine took longer than 300 ms to connect
        // (the ping came before the connect answer) or to answer a ping (the session ended).
        start(TestServer.options().pingInterval(Duration.ofSeconds(2)).pingTimeout(Duration.ofSeconds(1)).build());
        String sid = connectedSession();
        URI session = session(sid);
        // The client polls and answers pings from now on, as socket.io-client does while it probes:
        // polling only once the probe was open left the session unanswered meanwhile, and on a slow
        // machine its own heartbeat ended it before the probe's could.
        java.util.concurrent.atomic.AtomicBoolean polling = new java.util.concurrent.atomic.AtomicBoolean(true);
        AtomicReference<Exception> pollFailure = new AtomicReference<>();
        Thread poller = new Thread(() -> {
            try {
                while (polling.get()) {
                    if (get(session).body().contains("2")) {
                        post(session, "3");
                    }
                }
            } catch (Exception e) {
                pollFailure.set(e);
            }
        }, "polling-client");
        poller.start();
        try (RawClient probe = probe(sid)) {
            Await.until("the probe closed", probe::isClosed);
            assertEquals(1, server.switchboard().connectionCount(), "the polling session lives on");
        } finally {
            polling.set(false);
            poller.join(10_000);
        }
        assertEquals(null, pollFailure.get(), "the client's polling failed");
    }

    private static long millisOfAGet(URI session) {
        long start = System.nanoTime();
        try {
            get(session);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    /**
     * A POST is answered once its packets are handled, so a listener that runs longer than the
     * standalone server's idleTimeout (30 s by default, 1 s here) holds it past that: the request
     * is no longer timed as an idle one, as a waiting GET is not (the sweep cut it, and
     * socket.io-client dropped the session with a transport error).
     */
    @Test
    void aPollingPostWhoseListenerOutlastsTheIdleTimeoutIsAnswered() throws Exception {
        Switchboard switchboard = Switchboard.create(TestServer.options().build());
        switchboard.onConnection(socket -> socket.on("slow", event -> {
            try {
                Thread.sleep(1_500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            event.ack("done");
        }));
        try (StandaloneServer http = StandaloneServer
                .start(switchboard, StandaloneOptions.builder().port(0)
                        .idleTimeout(Duration.ofSeconds(1)).build())) {
            URI open = URI.create("http://127.0.0.1:" + http.port() + "/socket.io/?EIO=4&transport=polling");
            String body = get(open).body();
            String sid = body.substring(9, body.indexOf('"', 9));
            URI session = URI.create("http://127.0.0.1:" + http.port() + "/socket.io/?EIO=4&transport=polling&sid=" + sid);
            assertEquals("ok", post(session, "40").body());
            assertTrue(get(session).body().startsWith("40{"));
            HttpResponse<String> answer;
            try {
                answer = post(session, "420[\"slow\"]");
            } catch (IOException e) {
                throw new AssertionError("the POST carrying a slow event failed: " + e, e);
            }
            assertEquals("200 ok", answer.statusCode() + " " + answer.body());
            assertEquals("430[\"done\"]", get(session).body());
        } finally {
            switchboard.close();
        }
    }

    /**
     * SplitReadsTest's case of a send that fails because the client left, for a Socket.IO session
     * that started on polling and upgraded: the 200 events the client sent before leaving are
     * handled before the connection ends, as for a client connected over WebSocket directly. The
     * failure waited behind the polling session's input, none, instead of the WebSocket's inbox,
     * and the connection ended with 0 to 4 of them handled.
     */
    @Test
    void anUpgradedSessionHandlesWhatTheClientSentBeforeASendFailedBecauseItLeft() throws Exception {
        sendFailureAfterInput(true);
    }

    /** The same for a Socket.IO client connected over WebSocket directly, for contrast. */
    @Test
    void aDirectWebSocketSessionHandlesWhatTheClientSentBeforeASendFailedBecauseItLeft() throws Exception {
        sendFailureAfterInput(false);
    }

    private void sendFailureAfterInput(boolean upgraded) throws Exception {
        int events = 200;
        List<Integer> handled = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Integer> handledAtDisconnect = new CompletableFuture<>();
        CompletableFuture<String> reason = new CompletableFuture<>();
        AtomicReference<Socket> connected = new AtomicReference<>();
        server = TestServer.start(TestServer.options().sendQueueBytes(64L << 20).sendBudgetBytes(64L << 20)
                .eventRate(1_000_000, 1_000_000).build(), sb -> sb.onConnection(socket -> {
                    socket.on("n", event -> {
                        TimeUnit.MILLISECONDS.sleep(2);
                        handled.add(event.args().get(0, Integer.class));
                    });
                    socket.onDisconnect(why -> {
                        handledAtDisconnect.complete(handled.size());
                        reason.complete(why.text());
                    });
                    connected.set(socket);
                }));
        String sid = upgraded ? openPolling() : null;
        URI session = upgraded ? session(sid) : null;
        if (upgraded) {
            assertEquals("ok", post(session, "40").body());
            assertTrue(get(session).body().startsWith("40{\"sid\""));
        }
        try (RawTcp client = RawTcp.upgrade(server.port(),
                "/socket.io/?EIO=4&transport=websocket" + (upgraded ? "&sid=" + sid : ""))) {
            if (upgraded) {
                client.write(RawTcp.frame(0x81, "2probe".getBytes(StandardCharsets.UTF_8)));
                assertEquals("3probe", client.nextFrame(Duration.ofSeconds(10)).text());
                client.write(RawTcp.frame(0x81, "5".getBytes(StandardCharsets.UTF_8)));
                Await.until("the session upgraded", () -> {
                    try {
                        return get(session).statusCode() == 400;
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
            } else {
                assertTrue(client.nextFrame(Duration.ofSeconds(10)).text().startsWith("0{"));
                client.write(RawTcp.frame(0x81, "40".getBytes(StandardCharsets.UTF_8)));
                Await.until("the socket connected", () -> connected.get() != null);
            }
            String chunk = "y".repeat(1 << 20);
            for (int i = 0; i < 32; i++) {
                connected.get().emit("big", chunk);
            }
            // Until a write waits in Grizzly's queue: the client's end fails it.
            long queued;
            do {
                queued = server.switchboard().metrics().queuedBytes();
                TimeUnit.MILLISECONDS.sleep(100);
            } while (queued == 0 || queued != server.switchboard().metrics().queuedBytes());
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (int n = 0; n < events; n++) {
                all.writeBytes(RawTcp.frame(0x81,
                        ("42[\"n\"," + n + ",\"x\"]").getBytes(StandardCharsets.UTF_8)));
            }
            client.write(all.toByteArray());
            client.endOutput();
            assertEquals(events + " transport close", handledAtDisconnect.get(30, TimeUnit.SECONDS)
                    + " " + reason.get(), "events handled before the disconnect, and its reason");
        }
    }

    /**
     * Many small frames wait for a polling client (1 MiB in the polling buffer, the rest in the
     * send queue) when it upgrades: every event arrives over the WebSocket, in order (the backlog
     * is sent from each send's completion, which must not grow the stack per frame).
     */
    @Test
    void anUpgradeDrainsALongBacklogOfSmallFrames() throws Exception {
        int count = 150_000;
        start(TestServer.options().sendQueueBytes(256L << 20).sendBudgetBytes(512L << 20).build());
        String sid = connectedSession();
        Socket socket = Await.value("the socket", () -> server.switchboard().root().sockets().values().stream()
                .findFirst().orElse(null));
        for (int i = 1; i <= count; i++) {
            socket.emit("e", i);
        }
        Pattern event = Pattern.compile("^42\\[\"e\",(\\d+)");
        try (RawTcp client = RawTcp.upgrade(server.port(),
                "/socket.io/?EIO=4&transport=websocket&sid=" + sid)) {
            client.write(RawTcp.frame(0x81, "2probe".getBytes(StandardCharsets.UTF_8)));
            assertEquals("3probe", client.nextFrame(Duration.ofSeconds(10)).text());
            client.write(RawTcp.frame(0x81, "5".getBytes(StandardCharsets.UTF_8)));
            int expected = 1;
            try {
                while (expected <= count) {
                    String text = client.nextFrame(Duration.ofSeconds(10)).text();
                    Matcher m = event.matcher(text);
                    if (!m.find()) {
                        continue;
                    }
                    assertEquals(expected, Integer.parseInt(m.group(1)), "events in order");
                    expected++;
                }
            } catch (IOException e) {
                throw new AssertionError("received events 1.." + (expected - 1) + " of " + count
                        + " over the WebSocket, then " + e, e);
            }
        }
    }

    /**
     * engine.io-client closes a polling transport that failed (a request cut off) by POSTing the
     * close packet "1" to the old sid, then reconnects with its pid and offset. The close packet
     * ends the session as a transport close (as the reference server has it; a client that leaves
     * says so with "41" first), which recovery covers: the reconnect gets the old socket back.
     * Before, it was the client leaving, not recoverable: a new socket, the missed events lost.
     * Without the close packet (the old session still open) as well.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void anEngineCloseOverPollingLeavesTheSessionRecoverable(boolean clientSendsClose) throws Exception {
        start(TestServer.options().build());
        Polled socket = connectOverPolling();
        server.switchboard().root().emit("seq", 1);
        String offset = offsetOf(get(socket.session()).body());
        // Without the close, the old session is still open when the client returns (control case).
        if (clientSendsClose) {
            assertEquals("ok", post(socket.session(), "1").body());
            Await.until("the old socket ended", () -> disconnects.contains("transport close"));
        }
        String sid2 = openPolling();
        URI session2 = session(sid2);
        assertEquals("ok", post(session2, "40{\"pid\":\"" + socket.pid() + "\",\"offset\":\"" + offset + "\"}").body());
        String answer = get(session2).body();
        assertTrue(answer.startsWith("40{\"sid\":\"" + socket.id() + "\""), "reconnect answered " + answer
                + " (old socket id " + socket.id() + "); the old socket ended with " + disconnects);
    }

    /**
     * The same close packet over WebSocket, which engine.io-client never sends there but another
     * client may: it too ends the connection as a transport close that recovery covers, as
     * PROTOCOL.md says of {@code 1} (the reference server ignores it over WebSocket, and then a
     * close of the WebSocket is a transport close). Before, it was the client leaving: a new
     * socket, the missed event lost.
     */
    @Test
    void anEngineCloseOverWebSocketLeavesTheSessionRecoverable() throws Exception {
        start(TestServer.options().build());
        URI webSocket = URI.create("ws://127.0.0.1:" + server.port() + "/socket.io/?EIO=4&transport=websocket");
        String id;
        String pid;
        String offset;
        try (RawClient first = RawClient.connect(webSocket)) {
            assertTrue(first.next().startsWith("0{"));
            first.send("40");
            String connected = first.next();
            id = quoted(connected, "sid");
            pid = quoted(connected, "pid");
            server.switchboard().to(id).emit("seq", 1);
            offset = offsetOf(first.next());
            first.send("1");
            assertEquals(1000, first.awaitClose(), "the server closes the WebSocket");
            Await.until("the old socket ended", () -> !disconnects.isEmpty());
        }
        assertEquals(List.of("transport close"), disconnects);
        server.switchboard().to(id).emit("seq", 2);
        try (RawClient back = RawClient.connect(webSocket)) {
            assertTrue(back.next().startsWith("0{"));
            back.send("40{\"pid\":\"" + pid + "\",\"offset\":\"" + offset + "\"}");
            assertEquals(id, quoted(back.next(), "sid"), "recovered");
            assertTrue(back.next().startsWith("42[\"seq\",2,"), "the event missed meanwhile");
        }
    }

    /**
     * A GET waits for packets; the client goes away (its HTTP connection reset) and the server
     * then answers that GET with two events, into a connection nobody reads. The client comes
     * back over a new session with its pid and the offset of the last event it did get: both
     * events are replayed, in order, none lost with the dead GET.
     */
    @Test
    void eventsAnsweredToAGetWhoseClientHadGoneAreReplayedOnRecovery() throws Exception {
        start(TestServer.options().build());
        Polled socket = connectOverPolling();
        server.switchboard().root().emit("seq", 1);
        String offset = offsetOf(get(socket.session()).body());

        try (RawTcp poll = RawTcp.open(server.port())) {
            poll.write(("GET /socket.io/?EIO=4&transport=polling&sid=" + socket.sid() + " HTTP/1.1\r\nHost: 127.0.0.1:"
                    + server.port() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            // The GET is held (no packet to answer it with) before the client goes.
            Thread.sleep(300);
            poll.abort();
        }
        server.switchboard().root().emit("seq", 2);
        server.switchboard().root().emit("seq", 3);

        String all = recoverOverPolling(socket.pid(), offset, socket.id(), "42[\"seq\",3");
        assertTrue(all.indexOf("42[\"seq\",2") > 0 && all.indexOf("42[\"seq\",2") < all.indexOf("42[\"seq\",3"),
                "seq 2 then seq 3 replayed: " + all);
    }

    private URI polling(String query) {
        return EnginePolling.uri(server.port(), query);
    }

    private URI session(String sid) {
        return EnginePolling.session(server.port(), sid);
    }

    private String openPolling() throws Exception {
        return EnginePolling.open(server.port(), "");
    }

    /** A polling session whose client has connected to the main namespace; returns its sid. */
    private String connectedSession() throws Exception {
        String sid = openPolling();
        URI session = session(sid);
        assertEquals("ok", post(session, "40").body());
        assertTrue(get(session).body().startsWith("40{\"sid\""));
        return sid;
    }

    /** A WebSocket that probes to take session {@code sid} over ({@code 2probe}, answered {@code 3probe}) and goes no further. */
    private RawClient probe(String sid) {
        RawClient probe = RawClient.connect(URI.create("ws://127.0.0.1:" + server.port()
                + "/socket.io/?EIO=4&transport=websocket&sid=" + sid));
        probe.send("2probe");
        assertEquals("3probe", probe.next());
        return probe;
    }

    /**
     * The server asks socket.io-client a question ({@code emitWithAck}), the client answers, and
     * the network is cut before any other event. An event asking for an ack carries no offset
     * (as on the reference server), so the client comes back with the offset of the event before
     * it: the question must not come again. Before, the log had kept it, and the recovered client
     * was asked again (as a plain event) though the server had its answer.
     */
    @Test
    void aQuestionAnsweredJustBeforeACutIsNotAskedAgainAfterTheRecovery() throws Exception {
        start(TestServer.options().build());
        node = NodeClient.start();
        try (CuttableProxy proxy = new CuttableProxy(server.port())) {
            String id = openAndSeeOne(proxy, "q", "'ackReply':'four',");
            node.send("{'op':'emit','name':'q','event':'ask','args':[]}");
            assertEquals("2+2", NodeClient.firstArg(node.nextEvent("q", "question")));
            Await.until("the server has the client's answer", () -> answers.contains("four"));

            // Over WebSocket (a polling client between two requests would not see a cut); sent
            // whether or not the server noticed the cut yet: logged either way, and replayed.
            proxy.cut();
            server.switchboard().root().emit("seq", 2);
            assertRecovered("q", id);
            server.switchboard().root().emit("seq", 3);
            List<String> seen = new ArrayList<>();
            while (!seen.contains("seq 3")) {
                JsonObject event = node.next(report -> "q".equals(report.getString("name"))
                        && "event".equals(report.getString("type")));
                seen.add(event.getString("event") + " " + NodeClient.firstArg(event));
            }
            assertEquals(List.of("seq 2", "seq 3"), seen, "after the recovery");
        }
    }

    /**
     * A volatile event carries no offset. socket.io-client takes the last element of every event
     * it is not asked to ack for its offset when it is a string, so a volatile event without
     * arguments (its name is then last) or with a string last leaves the client holding a value
     * that names no event of the log. Before, it came back with that value and got
     * {@code recovered: false}, a new id, and the events it missed were lost.
     */
    @Test
    void aVolatileEventSeenLastBeforeACutDoesNotSpoilTheRecovery() throws Exception {
        start(TestServer.options().build());
        node = NodeClient.start();
        try (CuttableProxy proxy = new CuttableProxy(server.port())) {
            String id = openAndSeeOne(proxy, "v", "");
            server.switchboard().root().asVolatile().emit("tick");
            server.switchboard().root().asVolatile().emit("typing", "ana");
            node.nextEvent("v", "tick");
            node.nextEvent("v", "typing");

            // Over WebSocket (a polling client between two requests would not see a cut); sent
            // whether or not the server noticed the cut yet: logged either way, and replayed.
            cutThenRecover(proxy, "v", id, 2);
        }
    }

    /**
     * The same value ({@code tick}) sent after two events: the client holds it from whichever it
     * got last, and event 2 with the tick after it may have been lost in flight. Once the client
     * has answered a ping sent after both, it had them: it recovers from after event 2, and gets
     * event 3 alone. (Without that answer the server cannot tell, and refuses the recovery.)
     */
    @Test
    void aVolatileValueSentAgainIsPlacedOnceThePingAfterItIsAnswered() throws Exception {
        start(TestServer.options().pingInterval(Duration.ofMillis(200)).pingTimeout(Duration.ofSeconds(10)).build());
        node = NodeClient.start();
        try (CuttableProxy proxy = new CuttableProxy(server.port())) {
            String id = openOverWebSocket(proxy, "t", "'reportPings':true,").getString("id");
            for (int i = 1; i <= 2; i++) {
                server.switchboard().root().emit("seq", i);
                assertEquals(String.valueOf(i), NodeClient.firstArg(node.nextEvent("t", "seq")));
                server.switchboard().root().asVolatile().emit("tick");
                node.nextEvent("t", "tick");
            }
            // The first ping after the second tick was queued behind it; the next is counted after it.
            node.forgetEarlier("t", "ping");
            node.next("t", "ping");
            node.next("t", "ping");
            // Sent after that pong over the same WebSocket: once answered, the server has read the pong.
            node.send("{'op':'emitWithAck','name':'t','id':1,'event':'fence','args':[],'timeout':5000}");
            node.next("t", "ack");

            cutThenRecover(proxy, "t", id, 3);
        }
    }

    /**
     * socket.io-client keeps its last offset when it starts a fresh session ({@code recovered}
     * false), until an event of the new session changes it. Cut again before any, it presents
     * that old offset with the new session's pid: it has nothing of the new session, so it is owed
     * all of it. Before, the offset was unknown to the new session: {@code recovered: false} a
     * second time, a third id, and the event sent meanwhile lost.
     */
    @Test
    void aClientThatStartedAfreshAndIsCutAgainBeforeAnyEventRecoversTheNewSession() throws Exception {
        start(TestServer.options().recoveryLimits(3, 1 << 20).build());
        node = NodeClient.start();
        try (CuttableProxy proxy = new CuttableProxy(server.port())) {
            openOverWebSocket(proxy, "f", "");
            server.switchboard().root().emit("seq", 1);
            assertEquals("1", NodeClient.firstArg(node.nextEvent("f", "seq")));
            // Away while more than the replay log's bound went out: the session ends.
            proxy.refuse(true);
            proxy.cut();
            Await.until("the client is away", () -> server.switchboard().root().detachedSessions().size() == 1);
            for (int i = 0; i < 4; i++) {
                server.switchboard().root().emit("lost", i);
            }
            proxy.refuse(false);
            JsonObject fresh = node.next("f", "connect");
            assertFalse(fresh.getBoolean("recovered"), "the first session overflowed");
            String id = fresh.getString("id");
            Await.until("the fresh socket connected", () -> server.switchboard().root().sockets().containsKey(id));

            proxy.refuse(true);
            proxy.cut();
            Await.until("away again", () -> server.switchboard().root().detachedSessions().containsKey(id));
            server.switchboard().root().emit("seq", 2);
            proxy.refuse(false);
            assertRecovered("f", id);
            assertEquals("2", NodeClient.firstArg(node.nextEvent("f", "seq")));
        }
    }

    /**
     * The volatile case over long-polling, in raw HTTP: the client presents what socket.io-client
     * holds after a volatile {@code tick} with no arguments, its name.
     */
    @Test
    void aVolatileEventSeenLastOverPollingDoesNotSpoilTheRecovery() throws Exception {
        start(TestServer.options().build());
        Polled socket = connectOverPolling();
        server.switchboard().root().emit("seq", 1);
        assertTrue(get(socket.session()).body().startsWith("42[\"seq\",1,"));
        server.switchboard().root().asVolatile().emit("tick");
        assertEquals("42[\"tick\"]", get(socket.session()).body());
        assertEquals("ok", post(socket.session(), "1").body());
        Await.until("the old socket ended", () -> disconnects.contains("transport close"));
        server.switchboard().root().emit("seq", 2);

        recoverOverPolling(socket.pid(), "tick", socket.id(), "42[\"seq\",2");
    }

    /**
     * A Socket.IO client over WebSocket stops reading, and the server cuts it off as a slow
     * consumer; it reads what reached it, then comes back with the offset of the last event it
     * read: it recovers, and gets the rest once each, in order.
     */
    @Test
    void aStalledSocketIoReaderCutOffAsASlowConsumerRecoversWhatItDidNotRead() throws Exception {
        start(TestServer.options().sendQueueBytes(64 * 1024).recoveryLimits(1000, 16 << 20).build());
        URI webSocket = URI.create("ws://127.0.0.1:" + server.port() + "/socket.io/?EIO=4&transport=websocket");
        RawClient slow = RawClient.connect(webSocket);
        assertTrue(slow.next().startsWith("0{"));
        slow.send("40");
        String connected = slow.next();
        String id = quoted(connected, "sid");
        String pid = quoted(connected, "pid");
        slow.stopReading();
        String payload = "s".repeat(16 * 1024);
        int total = 600;
        for (int i = 0; i < total; i++) {
            server.switchboard().to(id).emit("seq", i, payload);
        }
        Await.until("cut off as a slow consumer", () -> disconnects.contains("slow consumer"));

        slow.resumeReading();
        List<Integer> received = new ArrayList<>();
        String lastOffset = null;
        for (String frame = slow.poll(Duration.ofSeconds(2)); frame != null; frame = slow.poll(Duration.ofMillis(500))) {
            if (frame.startsWith("42[\"seq\",")) {
                received.add(Integer.parseInt(frame.substring(9, frame.indexOf(',', 9))));
                lastOffset = offsetOf(frame);
            }
        }
        assertTrue(received.size() < total, "the stalled client had not read everything");
        assertNotNull(lastOffset, "the client read some events before it stalled");

        try (RawClient back = RawClient.connect(webSocket)) {
            assertTrue(back.next().startsWith("0{"));
            back.send("40{\"pid\":\"" + pid + "\",\"offset\":\"" + lastOffset + "\"}");
            String again = back.next();
            assertEquals(id, quoted(again, "sid"), "recovered: " + again);
            while (received.size() < total) {
                String frame = back.next();
                assertTrue(frame.startsWith("42[\"seq\","), frame);
                received.add(Integer.parseInt(frame.substring(9, frame.indexOf(',', 9))));
            }
            server.switchboard().to(id).emit("end");
            assertEquals("42[\"end\"", back.next().substring(0, 8), "nothing replayed twice");
        }
        for (int i = 0; i < total; i++) {
            assertEquals(i, received.get(i));
        }
        slow.abort();
    }

    /**
     * The same over long-polling: a client that stops polling while events pile up for it is cut
     * off as a slow consumer, and a new session from the offset of the last event it read gets
     * every one it missed, once each, in order.
     */
    @Test
    void aPollingClientThatStopsPollingIsCutOffAndRecoversWhatItMissed() throws Exception {
        start(TestServer.options().sendQueueBytes(64 * 1024).recoveryLimits(1000, 16 << 20).build());
        Polled socket = connectOverPolling();
        server.switchboard().to(socket.id()).emit("seq", -1);
        String seen = get(socket.session()).body();
        assertTrue(seen.startsWith("42[\"seq\",-1,"), seen);
        String payload = "s".repeat(16 * 1024);
        int total = 100;
        for (int i = 0; i < total; i++) {
            server.switchboard().to(socket.id()).emit("seq", i, payload);
        }
        Await.until("cut off as a slow consumer", () -> disconnects.contains("slow consumer"));

        String replayed = recoverOverPolling(socket.pid(), offsetOf(seen), socket.id(), "42[\"seq\"," + (total - 1) + ",");
        List<Integer> received = new ArrayList<>();
        for (String packet : replayed.split("[|\u001e]")) {
            if (packet.startsWith("42[\"seq\",")) {
                received.add(Integer.parseInt(packet.substring(9, packet.indexOf(',', 9))));
            }
        }
        assertEquals(IntStream.range(0, total).boxed().toList(), received);
    }

    /** A socket connected over a long-polling session of its own. */
    private record Polled(String sid, URI session, String id, String pid) {
    }

    private Polled connectOverPolling() throws Exception {
        String sid = openPolling();
        URI session = session(sid);
        assertEquals("ok", post(session, "40").body());
        String connected = get(session).body();
        return new Polled(sid, session, quoted(connected, "sid"), quoted(connected, "pid"));
    }

    /** The offset an event packet ends with, its last string argument. */
    private static String offsetOf(String event) {
        return event.substring(event.lastIndexOf(",\"") + 2, event.lastIndexOf('"'));
    }

    /** The string value of {@code "field"} in a packet's text. */
    private static String quoted(String packet, String field) {
        int start = packet.indexOf("\"" + field + "\":\"") + field.length() + 4;
        return packet.substring(start, packet.indexOf('"', start));
    }

    /**
     * A new long-polling session presents {@code pid} and {@code offset}: it recovers socket
     * {@code id}. Returns what its GETs answered until one held {@code until}, joined by {@code |}.
     */
    private String recoverOverPolling(String pid, String offset, String id, String until) throws Exception {
        URI session = session(openPolling());
        assertEquals("ok", post(session, "40{\"pid\":\"" + pid + "\",\"offset\":\"" + offset + "\"}").body());
        StringBuilder received = new StringBuilder(get(session).body());
        assertTrue(received.toString().startsWith("40{\"sid\":\"" + id + "\""), "recovered: " + received);
        while (!received.toString().contains(until)) {
            received.append('|').append(get(session).body());
        }
        return received.toString();
    }

    /** socket.io-client {@code name} on WebSocket only, through {@code proxy}; {@code extra} adds fields to the open. Its connect report. */
    private JsonObject openOverWebSocket(CuttableProxy proxy, String name, String extra) throws Exception {
        node.send("{'op':'open','name':'" + name + "','url':'http://127.0.0.1:" + proxy.port() + "/'," + extra
                + "'options':{'transports':['websocket']}}");
        return node.next(name, "connect");
    }

    /** Opens client {@code name} as {@link #openOverWebSocket} does and sends it {@code seq 1}, which it gets; its socket id. */
    private String openAndSeeOne(CuttableProxy proxy, String name, String extra) throws Exception {
        String id = openOverWebSocket(proxy, name, extra).getString("id");
        server.switchboard().root().emit("seq", 1);
        assertEquals("1", NodeClient.firstArg(node.nextEvent(name, "seq")));
        return id;
    }

    /** Cuts client {@code name}'s connection and sends {@code seq}: it recovers socket {@code id} and gets it. */
    private void cutThenRecover(CuttableProxy proxy, String name, String id, int seq) throws Exception {
        proxy.cut();
        server.switchboard().root().emit("seq", seq);
        assertRecovered(name, id);
        assertEquals(String.valueOf(seq), NodeClient.firstArg(node.nextEvent(name, "seq")));
    }

    /** Client {@code name} connected again, recovering socket {@code id}. */
    private void assertRecovered(String name, String id) throws Exception {
        JsonObject back = node.next(name, "connect");
        assertTrue(back.getBoolean("recovered"), "socket.recovered");
        assertEquals(id, back.getString("id"));
    }
}
