package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.Arguments;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A client whose connection drops comes back to the same session and gets every event it
 * missed, exactly once and in order; when that is impossible it is told so.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class RecoveryTest {
    private final Map<String, Socket> byUser = new ConcurrentHashMap<>();
    private final BlockingQueue<String> disconnects = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> expired = new LinkedBlockingQueue<>();
    private final AtomicBoolean refuseEveryone = new AtomicBoolean();
    private TestServer server;

    private void start(SwitchboardOptions.Builder options) {
        server = TestServer.start(options.build(), sb -> {
            sb.use(socket -> {
                if (refuseEveryone.get()) {
                    throw new ConnectionRejectedException("credentials expired");
                }
                socket.userId(socket.handshake().auth(Map.class).get("user").toString());
            });
            sb.onConnection(socket -> {
                socket.join("room");
                if (socket.recovered()) {
                    socket.broadcast().emit("presence", socket.userId() + " reconnected");
                } else {
                    socket.broadcast().emit("presence", socket.userId() + " joined");
                }
                socket.onDisconnect(reason -> disconnects.add(socket.userId() + ":" + reason.text()));
                // Last: socketOf() then finds the socket in its rooms. The connect answer goes out
                // before this listener runs, so a test that only saw the answer may be ahead of it.
                byUser.put(socket.userId(), socket);
            });
            sb.root().onSessionExpired(session -> {
                expired.add(session.userId());
                sb.emit("presence", session.userId() + " left");
            });
        });
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private Socket socketOf(String user) {
        return Await.value(user + "'s socket connected", () -> {
            Socket socket = byUser.get(user);
            return socket != null && socket.connected() ? socket : null;
        });
    }

    @Test
    void droppedClientGetsEverythingItMissedExactlyOnceInOrder() throws Exception {
        start(TestServer.options());
        RawClient other = server.raw();
        other.connectAs("bob", null, null);
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        String id = first.getString("id");
        Socket socket = socketOf("maciel");

        // The server keeps emitting through four routes while the connection drops under it.
        int total = 400;
        Thread emitter = new Thread(() -> {
            for (int i = 0; i < total; i++) {
                switch (i % 4) {
                    case 0 -> socket.emit("seq", i);
                    case 1 -> server.switchboard().toUser("maciel").emit("seq", i);
                    case 2 -> server.switchboard().to("room").emit("seq", i);
                    default -> server.switchboard().emit("seq", i);
                }
                if (i == total / 4) {
                    maciel.abort();
                }
            }
        });
        List<Integer> received = new ArrayList<>();
        String lastOffset = null;
        emitter.start();
        while (true) {
            String frame = maciel.poll(Duration.ofMillis(500));
            if (frame == null) {
                break;
            }
            JsonObject packet = RawClient.parse(frame);
            if ("seq".equals(packet.getString("event", ""))) {
                received.add(packet.getJsonArray("args").getInt(0));
                lastOffset = packet.getString("offset");
            }
        }
        emitter.join();
        String dropped = disconnects.poll(10, TimeUnit.SECONDS);
        assertTrue(List.of("maciel:transport close", "maciel:transport error").contains(dropped), dropped);

        RawClient back = server.raw();
        JsonObject again = back.connectAs("maciel", first.getString("pid"), lastOffset);
        assertEquals("connect", again.getString("type"));
        assertTrue(again.getBoolean("recovered"), again.toString());
        assertEquals(id, again.getString("id"));
        assertNotEquals(first.getString("pid"), again.getString("pid"));
        while (received.size() < total) {
            JsonObject packet = back.next("event");
            received.add(packet.getJsonArray("args").getInt(0));
        }
        for (int i = 0; i < total; i++) {
            assertEquals(i, received.get(i), "event " + i);
        }
        server.switchboard().emit("seq", total);
        assertEquals(total, back.next("event").getJsonArray("args").getInt(0), "new events come after the replay");
        // A room's route knows the socket connected under the id: the one that ended must not keep its frames from the new one.
        server.switchboard().to("room").emit("seq", total + 1);
        server.switchboard().toUser("maciel").emit("seq", total + 2);
        assertEquals(total + 1, back.next("event").getJsonArray("args").getInt(0));
        assertEquals(total + 2, back.next("event").getJsonArray("args").getInt(0));

        Socket recovered = socketOf("maciel");
        assertTrue(recovered.recovered());
        assertTrue(recovered.rooms().containsAll(List.of(id, "room", "user:maciel")), recovered.rooms().toString());
        assertEquals("maciel reconnected", other.next(p -> "presence".equals(p.getString("event", ""))
                && p.getJsonArray("args").getString(0).startsWith("maciel re")).getJsonArray("args").getString(0));
        assertTrue(expired.isEmpty());
        back.close();
        other.close();
    }

    @Test
    void evictedSlowConsumerRecoversWhatItDidNotRead() throws Exception {
        start(TestServer.options().sendQueueBytes(64 * 1024).recoveryLimits(1000, 16 << 20));
        RawClient slow = server.raw();
        JsonObject first = slow.connectAs("maciel", null, null);
        Socket socket = socketOf("maciel");
        slow.stopReading();
        String payload = "s".repeat(16 * 1024);
        int total = 600;
        for (int i = 0; i < total; i++) {
            server.switchboard().toUser("maciel").emit("seq", i, payload);
        }
        assertEquals("maciel:slow consumer", disconnects.poll(10, TimeUnit.SECONDS));
        assertFalse(socket.connected());

        slow.resumeReading();
        List<Integer> received = new ArrayList<>();
        String lastOffset = null;
        for (String frame = slow.poll(Duration.ofSeconds(2)); frame != null; frame = slow.poll(Duration.ofMillis(500))) {
            JsonObject packet = RawClient.parse(frame);
            if ("seq".equals(packet.getString("event", ""))) {
                received.add(packet.getJsonArray("args").getInt(0));
                lastOffset = packet.getString("offset");
            }
        }
        assertTrue(received.size() < total, "the stalled client had not read everything");

        try (RawClient back = server.raw()) {
            JsonObject again = back.connectAs("maciel", first.getString("pid"), lastOffset);
            assertTrue(again.getBoolean("recovered"), again.toString());
            while (received.size() < total) {
                received.add(back.next("event").getJsonArray("args").getInt(0));
            }
        }
        for (int i = 0; i < total; i++) {
            assertEquals(i, received.get(i));
        }
        slow.abort();
    }

    @Test
    void expiredWindowGivesAFreshSessionAndFiresTheHook() throws Exception {
        start(TestServer.options().recoveryWindow(Duration.ofMillis(200)));
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        maciel.abort();
        assertEquals("maciel", expired.poll(10, TimeUnit.SECONDS));
        assertTrue(server.switchboard().root().detachedSessions().isEmpty());

        try (RawClient back = server.raw()) {
            JsonObject again = back.connectAs("maciel", first.getString("pid"), null);
            assertFalse(again.getBoolean("recovered"));
            assertNotEquals(first.getString("id"), again.getString("id"));
        }
    }

    @Test
    void sessionThatExpiresWhileItsSocketIsStillEndingTakesTheRoomsWithIt() throws Exception {
        start(TestServer.options().recoveryWindow(Duration.ofMillis(100)));
        RawClient maciel = server.raw();
        maciel.connectAs("maciel", null, null);
        Socket socket = socketOf("maciel");
        socket.join("chess");
        // A slow disconnecting listener (a database write, a loaded machine) outlasts the window:
        // the session expires while its socket is still ending.
        socket.onDisconnecting(reason -> Await.until("the session expired", () -> !expired.isEmpty()));
        maciel.abort();
        assertNotNull(disconnects.poll(10, TimeUnit.SECONDS), "disconnect listeners run once the socket is gone");
        assertEquals("maciel", expired.poll(), "the session expired before its socket had ended");
        assertTrue(server.switchboard().root().sockets().isEmpty());
        assertTrue(server.switchboard().root().detachedSessions().isEmpty());
        assertEquals(Set.of(), server.switchboard().root().adapter().rooms().join(), "no room outlives its members");
    }

    @Test
    void overflowDuringALongOutageGivesAFreshSessionAndFreesTheLog() throws Exception {
        start(TestServer.options().recoveryLimits(50, 1 << 20));
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        maciel.abort();
        assertNotNull(disconnects.poll(10, TimeUnit.SECONDS));
        for (int i = 0; i < 60; i++) {
            server.switchboard().toUser("maciel").emit("seq", i);
        }
        assertEquals("maciel", expired.poll(10, TimeUnit.SECONDS), "overflow ends the session at once");
        assertTrue(server.switchboard().root().detachedSessions().isEmpty());
        assertEquals(0, server.switchboard().options().sessionStore().size());

        try (RawClient back = server.raw()) {
            assertFalse(back.connectAs("maciel", first.getString("pid"), null).getBoolean("recovered"));
        }
    }

    @Test
    void unknownOffsetOrSessionIsNeverASilentGap() throws Exception {
        start(TestServer.options());
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        Socket before = socketOf("maciel");
        before.data().put("cart", "3 items");
        before.join("vip");
        maciel.abort();
        assertNotNull(disconnects.poll(10, TimeUnit.SECONDS));
        try (RawClient stranger = server.raw(); RawClient back = server.raw()) {
            assertFalse(stranger.connectAs("eve", "made-up-pid", null).getBoolean("recovered"));
            JsonObject again = back.connectAs("maciel", first.getString("pid"), "999999999");
            assertFalse(again.getBoolean("recovered"));
            // A fresh session in full: nothing of the old one carries over, not even its id.
            assertNotEquals(first.getString("id"), again.getString("id"));
            Socket fresh = socketOf("maciel");
            assertEquals(again.getString("id"), fresh.id());
            assertFalse(fresh.recovered());
            assertFalse(fresh.data().containsKey("cart"));
            assertFalse(fresh.rooms().contains("vip"), fresh.rooms().toString());
            assertTrue(server.switchboard().root().adapter().socketRooms(first.getString("id")).isEmpty());
            assertEquals(0, server.switchboard().to("vip").count().join());
        }
        assertEquals("maciel", expired.poll(10, TimeUnit.SECONDS));
    }

    @Test
    void recoveredSessionKeepsItsDataAndFollowsAUserChangedByMiddleware() throws Exception {
        start(TestServer.options());
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        socketOf("maciel").data().put("cart", "3 items");
        maciel.abort();
        assertNotNull(disconnects.poll(10, TimeUnit.SECONDS));

        // Middleware runs again on recovery and may name another user (a renamed account).
        try (RawClient back = server.raw()) {
            JsonObject again = back.connectAs("maciel.k", first.getString("pid"), null);
            assertTrue(again.getBoolean("recovered"), again.toString());
            assertEquals(first.getString("id"), again.getString("id"));
            Socket recovered = socketOf("maciel.k");
            assertEquals("3 items", recovered.data().get("cart"));
            assertEquals(1, server.switchboard().toUser("maciel.k").count().join());
            assertEquals(0, server.switchboard().toUser("maciel").count().join());
            assertFalse(server.switchboard().root().rooms().join().contains(Namespace.userRoom("maciel")));
            server.switchboard().toUser("maciel.k").emit("private", "for the renamed user");
            assertEquals("for the renamed user", back.next(p -> "private".equals(p.getString("event", "")))
                    .getJsonArray("args").getString(0));
        }
    }

    @Test
    void middlewareChecksARecoveringClientAgain() throws Exception {
        start(TestServer.options());
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        maciel.abort();
        assertNotNull(disconnects.poll(10, TimeUnit.SECONDS));
        refuseEveryone.set(true);
        try (RawClient back = server.raw()) {
            JsonObject answer = back.connectAs("maciel", first.getString("pid"), null);
            assertEquals("connect_error", answer.getString("type"));
            assertEquals("credentials expired", answer.getString("message"));
        }
        assertEquals("maciel", expired.poll(10, TimeUnit.SECONDS));
    }

    /**
     * Has the server send the client one event, confirms its offset with a {@code pong} as a
     * client does, and waits until the server has read that pong (an ack on the same connection
     * comes after it). Returns the confirmed offset.
     */
    private String confirmAnEvent(RawClient client) {
        // To the user: the connect answer may come before onConnection has joined the room.
        server.switchboard().toUser("maciel").emit("mark");
        String offset = client.next(p -> "mark".equals(p.getString("event", ""))).getString("offset");
        client.send("{\"type\":\"pong\",\"offset\":\"" + offset + "\"}");
        client.send("{\"type\":\"event\",\"event\":\"fence\",\"args\":[],\"ack\":1}");
        client.next("ack");
        return offset;
    }

    private static String eventName(JsonObject packet) {
        return packet.getString("event", "");
    }

    /**
     * A client confirms an offset, stops reading, misses {@code emits} while stalled, drops, and
     * comes back from the confirmed offset. Returns the server's answer and what it replayed.
     */
    private List<JsonObject> stallDropAndComeBack(Consumer<Switchboard> emits) throws Exception {
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        String confirmed = confirmAnEvent(maciel);
        maciel.stopReading();
        emits.accept(server.switchboard());
        maciel.abort();
        assertNotNull(disconnects.poll(10, TimeUnit.SECONDS));
        List<JsonObject> answers = new ArrayList<>();
        try (RawClient back = server.raw()) {
            JsonObject again = back.connectAs("maciel", first.getString("pid"), confirmed);
            answers.add(again);
            if (again.getBoolean("recovered")) {
                assertEquals(first.getString("id"), again.getString("id"));
                server.switchboard().to("room").emit("end");
                for (JsonObject packet = back.next("event"); !"end".equals(eventName(packet)); packet = back.next("event")) {
                    answers.add(packet);
                }
            } else {
                assertNotEquals(first.getString("id"), again.getString("id"));
            }
        }
        return answers;
    }

    private static Consumer<Switchboard> floods(int count) {
        String big = "x".repeat(600_000);
        return sb -> {
            for (int i = 1; i <= count; i++) {
                sb.to("room").emit("flood", i, big);
            }
        };
    }

    @Test
    void aStalledClientWhoseLogLostAnEventWhileConnectedIsNotRecovered() throws Exception {
        // The default 1 MiB of replay keeps one event of 600 000 characters, not two.
        start(TestServer.options().recoveryLimits(1000, 1 << 20));
        List<JsonObject> one = stallDropAndComeBack(floods(1));
        assertTrue(one.get(0).getBoolean("recovered"), "within the bound: " + one.get(0));
        assertEquals(List.of("flood"), one.stream().skip(1).map(RecoveryTest::eventName).toList());

        List<JsonObject> two = stallDropAndComeBack(floods(2));
        assertFalse(two.get(0).getBoolean("recovered"), "the first flood event fell out of the log: " + two.get(0));
    }

    @Test
    void aStalledClientPastTheEventCountBoundIsNotRecovered() throws Exception {
        start(TestServer.options().recoveryLimits(5, 16 << 20));
        Consumer<Switchboard> six = sb -> {
            for (int i = 0; i < 6; i++) {
                sb.to("room").emit("seq", i);
            }
        };
        assertFalse(stallDropAndComeBack(six).get(0).getBoolean("recovered"));
    }

    @Test
    void aVolatileEventCarriesNoOffsetSoAClientThatSawOneLastStillRecovers() throws Exception {
        start(TestServer.options());
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        server.switchboard().toUser("maciel").emit("message", "kept");
        String lastOffset = maciel.next(p -> "message".equals(eventName(p))).getString("offset");
        server.switchboard().toUser("maciel").asVolatile().emit("typing", "bob");
        JsonObject typing = maciel.next(p -> "typing".equals(eventName(p)));
        assertFalse(typing.containsKey("offset"), typing.toString());
        maciel.abort();
        assertNotNull(disconnects.poll(10, TimeUnit.SECONDS));
        server.switchboard().toUser("maciel").emit("message", "missed");
        server.switchboard().toUser("maciel").asVolatile().emit("typing", "bob");

        try (RawClient back = server.raw()) {
            JsonObject again = back.connectAs("maciel", first.getString("pid"), lastOffset);
            assertTrue(again.getBoolean("recovered"), again.toString());
            assertEquals(first.getString("id"), again.getString("id"));
            assertEquals("missed", back.next("event").getJsonArray("args").getString(0));
            server.switchboard().toUser("maciel").emit("message", "after");
            assertEquals("after", back.next("event").getJsonArray("args").getString(0), "no volatile event is replayed");
        }
    }

    @Test
    void aStalledReaderThatDropsGetsEveryLoggedEventOnceAndNoVolatileOne() throws Exception {
        start(TestServer.options());
        Consumer<Switchboard> mixed = sb -> {
            for (int i = 0; i < 50; i++) {
                sb.to("room").emit("seq", i);
                sb.to("room").asVolatile().emit("typing", i);
            }
        };
        List<JsonObject> answers = stallDropAndComeBack(mixed);
        assertTrue(answers.get(0).getBoolean("recovered"), answers.get(0).toString());
        List<Integer> replayed = answers.stream().skip(1)
                .peek(p -> assertEquals("seq", eventName(p), p.toString()))
                .map(p -> p.getJsonArray("args").getInt(0)).toList();
        assertEquals(50, replayed.size(), replayed.toString());
        for (int i = 0; i < 50; i++) {
            assertEquals(i, replayed.get(i));
        }
    }

    @Test
    void aReplayedEventDoesNotAskForTheAckTheServerFailedAtTheDrop() throws Exception {
        start(TestServer.options());
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        CompletableFuture<Arguments> answer = socketOf("maciel").timeout(Duration.ofSeconds(30)).emitWithAck("ask", "ready?");
        JsonObject ask = maciel.next(p -> "ask".equals(eventName(p)));
        assertTrue(ask.containsKey("ack"), ask.toString());
        maciel.abort();
        ExecutionException failure = assertThrows(ExecutionException.class, () -> answer.get(10, TimeUnit.SECONDS));
        assertInstanceOf(AckFailedException.class, failure.getCause());

        try (RawClient back = server.raw()) {
            assertTrue(back.connectAs("maciel", first.getString("pid"), null).getBoolean("recovered"));
            JsonObject replayed = back.next("event");
            assertEquals("ask", eventName(replayed));
            assertEquals(ask.getString("offset"), replayed.getString("offset"));
            assertFalse(replayed.containsKey("ack"), "replayed without the failed ack request: " + replayed);
        }
    }

    @Test
    void deliberateDisconnectKeepsNoSession() throws Exception {
        start(TestServer.options());
        try (RawClient maciel = server.raw()) {
            maciel.connectAs("maciel", null, null);
            maciel.sendJson("{'type':'disconnect'}");
            assertEquals("maciel:client disconnect", disconnects.poll(10, TimeUnit.SECONDS));
            assertTrue(server.switchboard().root().detachedSessions().isEmpty());
        }
    }

    /** Saves on another thread a moment later, as a store on a network service does. */
    private static final class LateStore implements SessionStore {
        private final SessionStore records = new InMemorySessionStore();
        private final AtomicInteger saves = new AtomicInteger();

        @Override
        public CompletableFuture<Void> save(SessionRecord record) {
            return CompletableFuture.runAsync(() -> {
                records.save(record);
                saves.incrementAndGet();
            }, CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS));
        }

        @Override
        public CompletableFuture<Optional<SessionRecord>> claim(String namespace, String pid) {
            return records.claim(namespace, pid);
        }

        @Override
        public CompletableFuture<Void> remove(String pid) {
            return records.remove(pid);
        }

        @Override
        public int size() {
            return records.size();
        }
    }

    @Test
    void aClientBackBeforeTheHeartbeatNoticedRecoversThoughTheStoreSavesLate() throws Exception {
        start(TestServer.options().sessionStore(new LateStore()));
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        try (RawClient back = server.raw()) {
            // The old connection is still open: taking it over detaches the session, whose record
            // reaches the store only later. The claim waits for it.
            JsonObject again = back.connectAs("maciel", first.getString("pid"), null);
            assertTrue(again.getBoolean("recovered"), again.toString());
            assertEquals(first.getString("id"), again.getString("id"));
            assertEquals("maciel:transport close", disconnects.poll(10, TimeUnit.SECONDS));
        }
        maciel.abort();
    }

    @Test
    void aSessionThatEndsBeforeALateStoreSavedItLeavesNoRecord() throws Exception {
        LateStore store = new LateStore();
        start(TestServer.options().sessionStore(store).recoveryWindow(Duration.ofMillis(50)));
        RawClient maciel = server.raw();
        maciel.connectAs("maciel", null, null);
        maciel.abort();
        assertEquals("maciel", expired.poll(10, TimeUnit.SECONDS));
        Await.until("the session saved, then removed", () -> store.saves.get() > 0 && store.size() == 0);
        assertEquals(1, store.saves.get());
        assertEquals(0, store.size(), "removed after the save, not before it");
    }

    @Test
    void aPidPresentedOnAnotherNamespaceLeavesItsSessionWaiting() throws Exception {
        start(TestServer.options());
        server.switchboard().of("/other");
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        maciel.abort();
        assertNotNull(disconnects.poll(10, TimeUnit.SECONDS));
        try (RawClient elsewhere = server.raw(); RawClient back = server.raw()) {
            elsewhere.send("{\"type\":\"connect\",\"nsp\":\"/other\",\"pid\":\"" + first.getString("pid") + "\"}");
            JsonObject other = elsewhere.next("connect");
            assertFalse(other.getBoolean("recovered"), other.toString());
            assertNotEquals(first.getString("id"), other.getString("id"));

            JsonObject again = back.connectAs("maciel", first.getString("pid"), null);
            assertTrue(again.getBoolean("recovered"), again.toString());
            assertEquals(first.getString("id"), again.getString("id"));
        }
    }
}
