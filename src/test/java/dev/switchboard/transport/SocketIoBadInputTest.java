package dev.switchboard.transport;

import static dev.switchboard.testing.EnginePolling.get;
import static dev.switchboard.testing.EnginePolling.getAsync;
import static dev.switchboard.testing.EnginePolling.post;
import static dev.switchboard.testing.EnginePolling.postAsync;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.Await;
import dev.switchboard.testing.EnginePolling;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile and malformed input on the Socket.IO path, as raw Engine.IO text over a WebSocket and
 * raw HTTP requests: the server closes or answers 400/413 as the reference server does, and keeps
 * nothing of what it refused.
 */
@Timeout(60)
class SocketIoBadInputTest {
    // HTTP/1.1 as browsers speak it to a plain-HTTP server: no h2c upgrade offer on each request.
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<String> disconnects = new CopyOnWriteArrayList<>();
    private final CountDownLatch holding = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private TestServer server;

    @BeforeEach
    void start() {
        server = TestServer.start(TestServer.options().pingInterval(Duration.ofSeconds(1))
                .pingTimeout(Duration.ofSeconds(1)).maxPayloadBytes(65_536).build(),
                switchboard -> switchboard.onConnection(socket -> {
                    socket.on("echo", event -> event.ack(event.args().payload()));
                    socket.on("hold", event -> {
                        holding.countDown();
                        try {
                            release.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                    socket.onDisconnect(reason -> disconnects.add(reason.text()));
                    if ("1".equals(socket.handshake().query("greet"))) {
                        socket.emit("you", socket.id());
                    }
                }));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private URI webSocket(String query) {
        return URI.create("ws://127.0.0.1:" + server.port() + "/socket.io/?" + query);
    }

    private URI polling(String query) {
        return EnginePolling.uri(server.port(), query);
    }

    /** A WebSocket client past the open packet and connected to the main namespace. */
    private RawClient connected() {
        RawClient client = RawClient.connect(webSocket("EIO=4&transport=websocket"));
        assertTrue(client.next().startsWith("0{\"sid\":"));
        client.send("40");
        assertTrue(next(client).startsWith("40{\"sid\":"));
        return client;
    }

    /**
     * The next Engine.IO packet other than a ping, which is answered as a client does: with the
     * one-second heartbeat here, a ping may come first on a slow machine.
     */
    private static String next(RawClient client) {
        for (String packet = client.next(); ; packet = client.next()) {
            if (!"2".equals(packet)) {
                return packet;
            }
            client.send("3");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"9", "47", "42{\"not\":\"an array\"}", "42[1,2]", "42[\"unclosed\"", "43[]",
            "43abc[\"x\"]", "41/nowhere,{}", "45-[\"bin\"]", "45x-[\"bin\"]", "2probe", ""})
    void aMalformedPacketClosesTheConnection(String packet) {
        try (RawClient client = connected()) {
            client.send(packet);
            assertEquals(1008, client.awaitClose());
            Await.until("the socket ended", () -> disconnects.contains("policy violation"));
        }
    }

    /**
     * A client may send on a namespace just before it hears that the server disconnected it:
     * such packets are dropped, and only as many as close the native protocol's connection
     * (its protocol errors) close this one.
     */
    @Test
    void packetsForANamespaceNotConnectedAreDroppedUntilTheyAreTooMany() {
        try (RawClient client = connected()) {
            for (int i = 1; i < server.switchboard().options().maxProtocolErrors(); i++) {
                client.send(i % 2 == 0 ? "42/nowhere,[\"echo\",1]" : "43/nowhere,0[]");
            }
            client.send("421[\"echo\",\"still here\"]");
            assertEquals("431[\"still here\"]", next(client));
            client.send("41/nowhere,");
            assertEquals(1008, client.awaitClose());
        }
    }

    @Test
    void anEventRoundTripsWithItsAckId() {
        try (RawClient client = connected()) {
            client.send("420[\"echo\",{\"big\":12345678901234567890}]");
            assertEquals("430[{\"big\":12345678901234567890}]", next(client));
        }
    }

    @Test
    void aFloodIsThrottledThenClosed() {
        try (RawClient client = connected()) {
            // The defaults: 100 events a second, a burst of 200. Past the burst, events are dropped
            // and their acks answered as failures; more refusals than the burst within a second close.
            try {
                for (int i = 0; i < 1000 && !client.isClosed(); i++) {
                    client.send("42" + i + "[\"echo\",1]");
                }
            } catch (CompletionException closedMeanwhile) {
                // The server closed while we were still sending: what this test waits for.
            }
            assertEquals(1008, client.awaitClose());
            Await.until("the socket ended as a policy violation", () -> disconnects.contains("policy violation"));
        }
    }

    @Test
    void aBinaryEventRoundTrips() {
        try (RawClient client = connected()) {
            client.send("451-0[\"echo\",{\"_placeholder\":true,\"num\":0}]");
            client.sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            assertEquals("461-0[{\"_placeholder\":true,\"num\":0}]", next(client), "a BINARY_ACK with one attachment");
        }
    }

    /**
     * Binary frames that break the sequence, as frames separated by {@code |}, {@code #} standing
     * for a binary frame: one with no packet waiting, more attachments than allowed (10), a text
     * packet while one is due, a placeholder naming no attachment.
     */
    @ParameterizedTest
    @ValueSource(strings = {"#", "4511-[\"echo\"]", "452-[\"echo\",{\"_placeholder\":true,\"num\":0},"
            + "{\"_placeholder\":true,\"num\":1}]|#|42[\"echo\",1]", "451-[\"echo\",{\"_placeholder\":true,\"num\":7}]|#"})
    void aBrokenBinarySequenceClosesTheConnection(String frames) {
        try (RawClient client = connected()) {
            for (String frame : frames.split("\\|")) {
                if (frame.equals("#")) {
                    client.sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3}));
                } else {
                    client.send(frame);
                }
            }
            assertEquals(1008, client.awaitClose());
            Await.until("the socket ended", () -> disconnects.contains("policy violation"));
        }
    }

    @Test
    void attachmentsOverThePayloadLimitCloseWith1009() {
        try (RawClient client = connected()) {
            client.send("452-[\"echo\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]");
            // Each fits maxPayload (64 KiB); together they do not.
            client.sendBinary(ByteBuffer.wrap(new byte[40_000]));
            client.sendBinary(ByteBuffer.wrap(new byte[40_000]));
            assertEquals(1009, client.awaitClose());
            Await.until("the socket ended", () -> disconnects.contains("policy violation"));
        }
    }

    /** The attachment in the same POST as its packet, or in the next one, as socket.io-client sends it when a POST is in flight. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aBase64BinaryPacketOnPollingCompletesItsEvent(boolean samePost) throws Exception {
        String sid = openPolling();
        URI session = polling("EIO=4&transport=polling&sid=" + sid);
        post(session, "40");
        get(session);
        String header = "451-0[\"echo\",{\"_placeholder\":true,\"num\":0}]";
        if (samePost) {
            assertEquals("ok", post(session, header + "\u001ebAQID").body());
        } else {
            assertEquals("ok", post(session, header).body());
            assertEquals("ok", post(session, "bAQID").body());
        }
        // The answer's text and its attachment may come in one payload or in two GETs.
        List<String> packets = new ArrayList<>();
        while (packets.size() < 2) {
            packets.addAll(List.of(get(session).body().split("\u001e")));
        }
        assertEquals(List.of("461-0[{\"_placeholder\":true,\"num\":0}]", "bAQID"), packets);
    }

    @Test
    void aPostIsAnsweredOnlyOnceItsPacketsAreHandled() throws Exception {
        // socket.io-client sends a binary packet's attachments in the POST after its header's, as soon as
        // that one is answered: answering first let the second POST's packets overtake the first's.
        CompletableFuture<HttpResponse<String>> answer = postHeldEvent(polling("EIO=4&transport=polling&sid=" + openPolling()));
        assertThrows(TimeoutException.class, () -> answer.get(300, TimeUnit.MILLISECONDS),
                "the POST was answered while its event was still being handled");
        release.countDown();
        assertEquals("ok", answer.get(10, TimeUnit.SECONDS).body());
    }

    @Test
    void aSecondPostWhileOneIsHandledEndsTheSession() throws Exception {
        URI session = polling("EIO=4&transport=polling&sid=" + openPolling());
        CompletableFuture<HttpResponse<String>> first = postHeldEvent(session);
        HttpResponse<String> second = post(session, "42[\"echo\",\"x\"]");
        assertEquals("400 {\"code\":3,\"message\":\"Bad request\"}", second.statusCode() + " " + second.body());
        release.countDown();
        assertEquals("ok", first.get(10, TimeUnit.SECONDS).body());
        Await.until("the session ended", () -> server.switchboard().connectionCount() == 0);
    }

    @Test
    void anotherEngineIoVersionIsRefused() throws Exception {
        try (RawClient client = RawClient.connect(webSocket("EIO=3&transport=websocket"))) {
            assertEquals(1002, client.awaitClose());
        }
        HttpResponse<String> answer = get(polling("EIO=3&transport=polling"));
        assertEquals(400, answer.statusCode());
        assertEquals("{\"code\":5,\"message\":\"Unsupported protocol version\"}", answer.body());
        assertEquals(0, server.switchboard().connectionCount());
    }

    @Test
    void anUnknownSidIsRefused() throws Exception {
        HttpResponse<String> answer = get(polling("EIO=4&transport=polling&sid=nope"));
        assertEquals(400, answer.statusCode());
        assertEquals("{\"code\":1,\"message\":\"Session ID unknown\"}", answer.body());
        assertEquals(400, post(polling("EIO=4&transport=polling&sid=nope"), "40").statusCode());
        try (RawClient client = RawClient.connect(webSocket("EIO=4&transport=websocket&sid=nope"))) {
            assertEquals(1002, client.awaitClose());
        }
        assertEquals(400, get(polling("EIO=4&transport=carrier-pigeon")).statusCode());
    }

    @Test
    void aPollingSessionCarriesPacketsSeparatedByTheRecordSeparator() throws Exception {
        String sid = openPolling();
        assertEquals("ok", post(polling("EIO=4&transport=polling&sid=" + sid), "40\u001e421[\"echo\",\"a\"]").body());
        String payload = get(polling("EIO=4&transport=polling&sid=" + sid)).body();
        String[] packets = payload.split("\u001e");
        assertTrue(packets[0].startsWith("40{\"sid\":"), payload);
        assertEquals("431[\"a\"]", packets.length > 1 ? packets[1]
                : get(polling("EIO=4&transport=polling&sid=" + sid)).body());
    }

    /**
     * A polling POST is UTF-8 whatever its Content-Type says (the reference server reads every
     * body as UTF-8; socket.io-client names the charset, other clients send {@code text/plain}
     * alone or nothing): text outside ASCII arrives as sent, over WebSocket and polling alike.
     */
    @ParameterizedTest
    @ValueSource(strings = {"text/plain;charset=UTF-8", "text/plain", ""})
    void aPollingPostIsReadAsUtf8WhateverItsContentType(String contentType) throws Exception {
        String sid = openPolling();
        URI session = polling("EIO=4&transport=polling&sid=" + sid);
        assertEquals("ok", post(session, "40").body());
        assertTrue(get(session).body().startsWith("40{\"sid\":"));
        String text = "caf\u00e9 \u2713 \ud83d\ude00";
        HttpRequest.Builder request = HttpRequest.newBuilder(session)
                .POST(HttpRequest.BodyPublishers.ofString("421[\"echo\",\"" + text + "\"]", StandardCharsets.UTF_8));
        if (!contentType.isEmpty()) {
            request.header("Content-Type", contentType);
        }
        assertEquals("ok", HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString()).body());
        String answer = get(session).body();
        while ("2".equals(answer)) {
            post(session, "3");
            answer = get(session).body();
        }
        assertEquals("431[\"" + text + "\"]", answer, "the echo of a POST sent with Content-Type '" + contentType + "'");
    }

    @RepeatedTest(5)
    void anEmitFromOnConnectionReachesAPollingClientRightAfterTheConnectAnswer() throws Exception {
        String sid = openPolling("&greet=1");
        URI session = polling("EIO=4&transport=polling&sid=" + sid);
        // As socket.io-client does: its next GET and the connect packet's POST go out together.
        var waiting = getAsync(session);
        assertEquals("ok", post(session, "40").body());
        List<String> packets = new ArrayList<>(List.of(waiting.join().body().split("\u001e")));
        while (!packets.contains("2") && packets.stream().noneMatch(packet -> packet.startsWith("42"))) {
            packets.addAll(List.of(get(session).body().split("\u001e")));
        }
        // The emit was queued right behind the connect answer, long before the heartbeat's first ping.
        assertTrue(packets.get(0).startsWith("40{\"sid\":"), packets.toString());
        assertTrue(packets.get(1).startsWith("42[\"you\","), packets.toString());
    }

    /** 70 000 bytes against 65 536, in as many chars or in half as many: the limit counts bytes, as the reference server's. */
    @ParameterizedTest
    @ValueSource(strings = {"x", "é"})
    void aPostLargerThanMaxPayloadIsRefusedAndEndsTheSession(String fill) throws Exception {
        String sid = openPolling();
        post(polling("EIO=4&transport=polling&sid=" + sid), "40");
        Await.until("the socket connected", () -> server.switchboard().root().sockets().size() == 1);
        String text = fill.repeat(70_000 / fill.getBytes(StandardCharsets.UTF_8).length);
        HttpResponse<String> answer = post(polling("EIO=4&transport=polling&sid=" + sid), "42[\"echo\",\"" + text + "\"]");
        assertEquals(413, answer.statusCode());
        Await.until("the connection ended", () -> server.switchboard().connectionCount() == 0);
        assertClosedForTheNextPoll(sid);
    }

    @Test
    void aSecondPendingGetEndsTheSession() throws Exception {
        String sid = openPolling();
        // Two GETs at once. Which one the server takes first is not for the test to know (a fixed
        // pause after sending one did not make it arrive first): that one waits, the other is
        // refused, and the session ends, which answers the waiting one with the close.
        var one = getAsync(polling("EIO=4&transport=polling&sid=" + sid));
        var other = getAsync(polling("EIO=4&transport=polling&sid=" + sid));
        List<Integer> statuses = new ArrayList<>();
        for (HttpResponse<String> answer : List.of(one.join(), other.join())) {
            statuses.add(answer.statusCode());
        }
        statuses.sort(null);
        assertEquals(List.of(200, 400), statuses);
        Await.until("the connection ended", () -> server.switchboard().connectionCount() == 0);
    }

    @Test
    void aPollingClientThatNeverPollsAgainIsClosedByTheHeartbeat() throws Exception {
        String sid = openPolling();
        post(polling("EIO=4&transport=polling&sid=" + sid), "40");
        Await.until("the socket connected", () -> server.switchboard().root().sockets().size() == 1);
        Await.until("the heartbeat ended it", () -> disconnects.contains("ping timeout"));
        // The socket's disconnect listener runs on a callback thread, as the timer thread goes on
        // to let the connection go: one may be seen before the other.
        Await.until("the connection let go", () -> server.switchboard().connectionCount() == 0);
        assertClosedForTheNextPoll(sid);
    }

    @Test
    void aForeignOriginIsRefusedOnBothTransports() throws Exception {
        HttpResponse<String> polling = HTTP.send(HttpRequest.newBuilder(polling("EIO=4&transport=polling"))
                .header("Origin", "http://evil.example").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(403, polling.statusCode());
        HttpResponse<String> own = HTTP.send(HttpRequest.newBuilder(polling("EIO=4&transport=polling"))
                .header("Origin", "http://127.0.0.1:" + server.port()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, own.statusCode());
        CompletableFuture<WebSocket> upgrade = HttpClient.newHttpClient().newWebSocketBuilder().header("Origin", "http://evil.example")
                .buildAsync(webSocket("EIO=4&transport=websocket"), new WebSocket.Listener() { });
        CompletionException refused = assertThrows(CompletionException.class, upgrade::join);
        assertEquals(403, ((WebSocketHandshakeException) refused.getCause()).getResponse().statusCode());
        Await.until("only the own origin's session is open", () -> server.switchboard().connectionCount() == 1);
    }

    /** An ended session answers the client's next GETs with what was buffered, then the close packet alone, then no more. */
    private void assertClosedForTheNextPoll(String sid) throws Exception {
        URI session = polling("EIO=4&transport=polling&sid=" + sid);
        HttpResponse<String> answer = get(session);
        while (answer.statusCode() == 200 && !"1".equals(answer.body())) {
            answer = get(session);
        }
        assertEquals("200 1", answer.statusCode() + " " + answer.body());
        assertEquals(400, get(session).statusCode());
    }

    /** Connects {@code session}'s socket, then POSTs the event whose listener holds until released; returns once it runs. */
    private CompletableFuture<HttpResponse<String>> postHeldEvent(URI session) throws Exception {
        post(session, "40");
        get(session);
        CompletableFuture<HttpResponse<String>> answer = postAsync(session, "42[\"hold\"]");
        assertTrue(holding.await(10, TimeUnit.SECONDS), "the held event's listener runs");
        return answer;
    }

    private String openPolling() throws Exception {
        return openPolling("");
    }

    private String openPolling(String query) throws Exception {
        return EnginePolling.open(server.port(), query);
    }
}
