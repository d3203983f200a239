package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.Await;
import dev.switchboard.testing.Heap;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.VirtualTime;
import jakarta.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Recovery combined with the send queue's bound, the heartbeat, volatile events and acks: each
 * right alone, checked here together, through real sockets.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class RecoveryCombinationsTest {
    private static final String PAYLOAD = "r".repeat(16 * 1024);

    private final Map<String, Socket> byUser = new ConcurrentHashMap<>();
    private final BlockingQueue<String> disconnects = new LinkedBlockingQueue<>();
    private TestServer server;

    private void start(SwitchboardOptions.Builder options, Consumer<Socket> onConnection) {
        server = TestServer.start(options.build(), sb -> {
            sb.use(socket -> socket.userId(socket.handshake().auth(Map.class).get("user").toString()));
            sb.onConnection(socket -> {
                socket.join("room");
                socket.onDisconnect(reason -> disconnects.add(socket.userId() + ":" + reason.text()));
                onConnection.accept(socket);
                // Last: socketOf() then finds the socket in its rooms, its listeners added. The connect
                // answer goes out before this listener runs, so a test that only saw the answer may be ahead of it.
                byUser.put(socket.userId(), socket);
            });
        });
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private Socket socketOf(String user) {
        return Await.value(user + "'s socket connected", () -> {
            Socket socket = byUser.get(user);
            return socket != null && socket.connected() ? socket : null;
        });
    }

    private static String eventName(JsonObject packet) {
        return packet.getString("event", "");
    }

    /**
     * A client that drops leaves a session per namespace waiting for the recovery window (2
     * minutes by default), however many times it comes and drops again. The auth payload of each
     * connect, the client's to choose up to a message's size, stayed in its session: a client
     * opening the 16 namespaces a connection may hold with a large auth, dropping, and doing it
     * again, made the server keep a megabyte per session while it held no connection. A
     * returning client brings its auth again (socket.io's sessions keep none either).
     */
    @Test
    void aWaitingSessionKeepsNoneOfTheAuthItsClientSent() {
        assertWaitingSessionsKeepLittleOf(",\"auth\":{\"pad\":\"" + "a".repeat(500_000) + "\"}", "an auth");
    }

    /**
     * The same with the offset a client presents at connect: one that names no event of a session
     * was kept for a client starting afresh, which may present it again (socket.io-client keeps its
     * old offset, row 167), whatever its length. Kept only when it could be such a value.
     */
    @Test
    void aWaitingSessionKeepsNoneOfALongOffsetItsClientPresented() {
        assertWaitingSessionsKeepLittleOf(",\"offset\":\"" + "7".repeat(500_000) + "\"", "an offset");
    }

    /** Opens 16 namespaces with {@code connectFields} in each connect, drops, four times; asserts what that leaves. */
    private void assertWaitingSessionsKeepLittleOf(String connectFields, String what) {
        int namespaces = 16;
        int rounds = 4;
        server = TestServer.start(TestServer.options().build(), sb -> {
            for (int i = 0; i < namespaces; i++) {
                sb.of("/n" + i);
            }
        });
        Switchboard sb = server.switchboard();
        long heapBefore = Heap.retained();
        for (int round = 0; round < rounds; round++) {
            RawClient client = server.raw();
            for (int i = 0; i < namespaces; i++) {
                String nsp = "/n" + i;
                client.send("{\"type\":\"connect\",\"nsp\":\"" + nsp + "\"" + connectFields + "}");
                assertEquals("connect", client.next(p -> nsp.equals(p.getString("nsp", ""))).getString("type"));
            }
            client.abort();
        }
        Await.until("every session waiting and no connection left", () -> sb.connectionCount() == 0
                && IntStream.range(0, namespaces).map(i -> sb.of("/n" + i).detachedSessions().size()).sum()
                == namespaces * rounds);
        long kept = Heap.retained() - heapBefore;
        System.out.println("figure: " + namespaces * rounds + " sessions waiting, each connected with " + what + " of 500 000"
                + " characters, no connection: heap " + Heap.change(kept) + " from the level before (client and server share this JVM)");
        assertTrue(kept < 8L << 20, kept + " bytes retained by " + namespaces * rounds + " waiting sessions and no connection");
    }

    /**
     * The replay of a long outage is larger than the send queue's bound (64 KiB here; the log
     * keeps 16 MiB). The client reads normally; the application greets it on recovery and the
     * room goes on talking. It must get the replay and then the live events, not be cut off as
     * a slow consumer for bytes the server queued to it beyond the bound on its own account.
     */
    @Test
    void aReplayLargerThanTheSendQueueIsFollowedByLiveEventsWithoutCuttingTheReader() throws Exception {
        start(TestServer.options().sendQueueBytes(64 * 1024).recoveryLimits(1000, 16 << 20), socket -> {
            if (socket.recovered()) {
                socket.emit("welcome-back");
            }
        });
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        maciel.abort();
        assertNotNull(disconnects.poll(10, TimeUnit.SECONDS));
        int missed = 300;   // 4.8 MB, 75 times the queue's bound
        for (int i = 0; i < missed; i++) {
            server.switchboard().to("room").emit("seq", i, PAYLOAD);
        }

        try (RawClient back = server.raw()) {
            JsonObject again = back.connectAs("maciel", first.getString("pid"), null);
            assertTrue(again.getBoolean("recovered"), again.toString());
            for (int i = 0; i < 5; i++) {
                server.switchboard().to("room").emit("live", i);
            }
            List<String> received = new ArrayList<>();
            for (String frame = back.poll(RawClient.WAIT); frame != null && received.size() < missed + 6;
                    frame = back.poll(RawClient.WAIT)) {
                JsonObject packet = RawClient.parse(frame);
                String name = eventName(packet);
                received.add("seq".equals(name) ? "seq " + packet.getJsonArray("args").getInt(0)
                        : "live".equals(name) ? "live " + packet.getJsonArray("args").getInt(0) : name);
            }
            assertEquals(List.of(), List.copyOf(disconnects), "a client that reads was cut off");
            List<String> replay = new ArrayList<>();
            for (int i = 0; i < missed; i++) {
                replay.add("seq " + i);
            }
            assertEquals(missed + 6, received.size(), "frames after the connect answer");
            assertEquals(replay, received.subList(0, missed), "the replay first, whole and in order");
            // The greeting races the test's emits; the live events keep their order among themselves.
            List<String> after = new ArrayList<>(received.subList(missed, missed + 6));
            assertTrue(after.remove("welcome-back"), after.toString());
            assertEquals(List.of("live 0", "live 1", "live 2", "live 3", "live 4"), after);
            assertFalse(back.isClosed());
        }
    }

    /**
     * Past the server-wide send budget the connections with the most bytes waiting are cut first.
     * A replay does not count against that budget, so cutting the client that reads one frees
     * nothing of it: the client that stopped reading must go, not the one recovering.
     */
    @Test
    void pastTheSendBudgetTheStalledReaderIsCutNotTheClientReadingALargeReplay() throws Exception {
        // The room goes on talking as maciel comes back: the stalled member's queue passes the
        // budget while the replay is still queued.
        start(TestServer.options().sendBudgetBytes(1 << 20).recoveryLimits(1000, 32 << 20), socket -> {
            if (socket.recovered()) {
                for (int i = 0; i < 64; i++) {
                    socket.toUser("stalled").emit("flood", PAYLOAD);
                }
            }
        });
        RawClient stalled = server.raw();
        stalled.connectAs("stalled", null, null);
        Connection stalledConnection = socketOf("stalled").connection();
        stalled.stopReading();
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        maciel.abort();
        assertNotNull(disconnects.poll(10, TimeUnit.SECONDS));
        int missed = 1000;   // 16 MB, logged while maciel is away
        for (int i = 0; i < missed; i++) {
            server.switchboard().toUser("maciel").emit("seq", i, PAYLOAD);
        }
        // The stalled client's kernel buffers are full and its queue holds a quarter of the budget.
        while (stalledConnection.queuedBytes() < 256 * 1024) {
            server.switchboard().toUser("stalled").emit("flood", PAYLOAD);
        }

        try (RawClient back = server.raw()) {
            JsonObject again = back.connectAs("maciel", first.getString("pid"), null);
            assertTrue(again.getBoolean("recovered"), again.toString());
            assertEquals("stalled:slow consumer", disconnects.poll(10, TimeUnit.SECONDS));
            int next = 0;
            for (String frame = back.poll(RawClient.WAIT); frame != null && next < missed; frame = back.poll(RawClient.WAIT)) {
                assertEquals(next++, RawClient.parse(frame).getJsonArray("args").getInt(0));
            }
            assertEquals(missed, next, "the replay, whole");
            assertEquals(List.of(), List.copyOf(disconnects), "the recovering client was cut off");
        } finally {
            stalled.abort();
        }
    }

    /**
     * A listener of the client's own event runs longer than pingTimeout (a slow database call,
     * under the handler timeout). The ping goes out meanwhile and the client answers at once, but
     * its pong waits, unread, behind that listener. The client did nothing wrong: it must not be
     * dropped for a ping timeout; once the listener returns, its pong is read and it stays.
     */
    @Test
    void aPongWaitingBehindASlowListenerIsNotAPingTimeout() throws Exception {
        VirtualTime time = new VirtualTime();
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        BlockingQueue<String> running = new LinkedBlockingQueue<>();
        SwitchboardOptions.Builder options = TestServer.options().clock(time.clock()).scheduler(time)
                .callbackExecutor(Runnable::run).handlerTimeout(Duration.ofMinutes(2));
        start(options, socket -> socket.on("slow", event -> {
            running.add("slow");
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            event.ack("done");
        }));
        SwitchboardOptions settings = server.switchboard().options();
        try (RawClient client = server.raw()) {
            client.connectAs("maciel", null, null);
            socketOf("maciel");
            client.stopAnsweringPings();
            client.sendJson("{'type':'event','event':'slow','args':[],'ack':1}");
            assertEquals("slow", running.poll(10, TimeUnit.SECONDS));

            time.advance(settings.pingInterval());
            // The client answers the ping the server just sent; the server is busy in its listener.
            client.sendJson("{'type':'pong'}");
            time.advance(settings.pingTimeout().plusSeconds(1));
            release.countDown();

            JsonObject answer;
            try {
                answer = client.next("ack");
            } catch (AssertionError e) {
                throw new AssertionError("no answer; the socket ended with " + disconnects, e);
            }
            assertEquals("done", answer.getJsonArray("args").getString(0));
            // An event after the pong on the same connection is answered once the pong was read.
            client.sendJson("{'type':'event','event':'probe','args':[],'ack':2}");
            client.next("ack");
            time.advance(settings.pingInterval());
            assertEquals(List.of(), List.copyOf(disconnects), "dropped though its pong had arrived");
            assertTrue(socketOf("maciel").connected());
        }
    }

    /**
     * A client comes back with its pid and offset, and the server recovers its session, but the
     * connection drops again before the connect answer (and the new pid in it) reaches the client:
     * a flaky network does that. The client still holds the pid it presented; coming back with it,
     * it must recover the session, with what it missed meanwhile.
     */
    @Test
    void aRecoveryWhoseConnectAnswerWasLostCanBeMadeAgainWithThePidTheClientHolds() throws Exception {
        start(TestServer.options(), socket -> { });
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        socketOf("maciel");
        server.switchboard().toUser("maciel").emit("seq", 1);
        String offset = maciel.next(p -> "seq".equals(eventName(p))).getString("offset");
        maciel.abort();
        assertEquals("maciel:transport close", disconnects.poll(10, TimeUnit.SECONDS));
        server.switchboard().toUser("maciel").emit("seq", 2);

        RawClient lost = server.raw();
        lost.sendConnect("maciel", first.getString("pid"), offset);
        assertTrue(socketOf("maciel").recovered(), "recovered on the server");
        // Gone before the client read the answer.
        lost.abort();
        assertEquals("maciel:transport close", disconnects.poll(10, TimeUnit.SECONDS));
        server.switchboard().toUser("maciel").emit("seq", 3);

        try (RawClient back = server.raw()) {
            JsonObject again = back.connectAs("maciel", first.getString("pid"), offset);
            assertTrue(again.getBoolean("recovered"), again.toString());
            assertEquals(first.getString("id"), again.getString("id"));
            assertEquals(2, back.next("event").getJsonArray("args").getInt(0));
            assertEquals(3, back.next("event").getJsonArray("args").getInt(0));
        }
    }

    /**
     * The pid a client recovered with opens its session again only while the client may not have
     * read the answer with the new one: once it answered a ping sent after that answer, it holds
     * the new pid, and the old one (a copy left in a log, say) opens nothing.
     */
    @Test
    void thePidAClientRecoveredWithNoLongerOpensTheSessionOnceAPongShowsItReadTheNewOne() throws Exception {
        start(TestServer.options().pingInterval(Duration.ofMillis(200)), socket -> { });
        RawClient maciel = server.raw();
        JsonObject first = maciel.connectAs("maciel", null, null);
        socketOf("maciel");
        maciel.abort();
        assertEquals("maciel:transport close", disconnects.poll(10, TimeUnit.SECONDS));

        RawClient back = server.raw();
        JsonObject again = back.connectAs("maciel", first.getString("pid"), null);
        assertTrue(again.getBoolean("recovered"), again.toString());
        Socket recovered = socketOf("maciel");
        // The client answers pings by itself.
        Await.until("a pong after the answer", () -> {
            synchronized (recovered.log()) {
                return recovered.formerPid() == null;
            }
        });
        back.abort();
        assertEquals("maciel:transport close", disconnects.poll(10, TimeUnit.SECONDS));

        try (RawClient old = server.raw()) {
            assertFalse(old.connectAs("maciel", first.getString("pid"), null).getBoolean("recovered"));
        }
    }

    /**
     * Dropping a connection costs a client nothing, and each drop leaves a session waiting for the
     * window, so the sessions that wait are capped, in all and per client address: one that drops
     * past a cap ends at once (its client starts afresh, the application hears that it expired),
     * while the others wait and recover. Addresses as a trusted proxy names them.
     */
    @Test
    void aSessionThatDropsPastTheCapsOnWaitingSessionsEndsAtOnceWhileTheOthersRecover() throws Exception {
        start(TestServer.options().trustedProxies(List.of("127.0.0.1")).maxWaitingSessions(4, 2), socket -> { });
        Set<String> expired = ConcurrentHashMap.newKeySet();
        server.switchboard().root().onSessionExpired(session -> expired.add(session.id()));
        Map<String, JsonObject> first = new HashMap<>();
        // a1, a2 and a3 from one address, b1 from another, c1 and c2 from a third, in that order.
        for (String user : List.of("a1", "a2", "a3", "b1", "c1", "c2")) {
            RawClient client = behindTheProxy(user);
            first.put(user, client.connectAs(user, null, null));
            socketOf(user);
            client.abort();
            assertEquals(user + ":transport close", disconnects.poll(10, TimeUnit.SECONDS));
        }
        Set<String> pastTheCaps = Set.of(first.get("a3").getString("id"), first.get("c2").getString("id"));
        Await.until("the sessions past the caps ended", () -> expired.size() == 2);
        assertEquals(pastTheCaps, expired, "a3, its address's third, and c2, the fifth in all");
        assertEquals(4, server.switchboard().root().detachedSessions().size());

        try (RawClient back = behindTheProxy("a1")) {
            assertTrue(back.connectAs("a1", first.get("a1").getString("pid"), null).getBoolean("recovered"));
        }
        RawClient a3 = behindTheProxy("a3");
        JsonObject fresh = a3.connectAs("a3", first.get("a3").getString("pid"), null);
        assertFalse(fresh.getBoolean("recovered"), fresh.toString());
        // a1's session and a3's left the count as they stopped waiting: a3's next drop waits.
        socketOf("a3");
        a3.abort();
        Await.until("a3 dropped", () -> disconnects.contains("a3:transport close"));
        try (RawClient back = behindTheProxy("a3")) {
            assertTrue(back.connectAs("a3", fresh.getString("pid"), null).getBoolean("recovered"));
        }
    }

    /**
     * An IPv6 client may take a new address of its /64 for each connection: its waiting sessions
     * count by the /64, so its second drop past a cap of one ends at once, whatever address it
     * came from; a client of another /64 waits.
     */
    @Test
    void anIpv6ClientsWaitingSessionsCountByItsSlash64() throws Exception {
        start(TestServer.options().trustedProxies(List.of("127.0.0.1")).maxWaitingSessions(100, 1), socket -> { });
        Set<String> expired = ConcurrentHashMap.newKeySet();
        server.switchboard().root().onSessionExpired(session -> expired.add(session.id()));
        Map<String, String> ids = new HashMap<>();
        Map<String, String> addresses = Map.of("a1", "2001:db8:1:2::1", "a2", "2001:db8:1:2::2", "b1", "2001:db8:1:3::1");
        for (String user : List.of("a1", "a2", "b1")) {
            RawClient client = RawClient.connect(server.webSocketUri(), Map.of("X-Forwarded-For", addresses.get(user)));
            ids.put(user, client.connectAs(user, null, null).getString("id"));
            socketOf(user);
            client.abort();
            assertEquals(user + ":transport close", disconnects.poll(10, TimeUnit.SECONDS));
        }
        Await.until("the session past the cap ended", () -> expired.size() == 1);
        assertEquals(Set.of(ids.get("a2")), expired, "a2, the second of its /64");
        assertEquals(2, server.switchboard().root().detachedSessions().size());
    }

    /**
     * A drain drops every client at once, none of which chose to: their sessions all wait, past
     * the caps on waiting sessions, which hold only drops a client could cause. On virtual time,
     * so that a session ended at once would have ended by the check.
     */
    @Test
    void aDrainPastTheCapsOnWaitingSessionsKeepsEverySession() throws Exception {
        VirtualTime time = new VirtualTime();
        start(TestServer.options().clock(time.clock()).scheduler(time).callbackExecutor(Runnable::run)
                .maxWaitingSessions(2, 2), socket -> { });
        Set<String> expired = ConcurrentHashMap.newKeySet();
        server.switchboard().root().onSessionExpired(session -> expired.add(session.id()));
        List<RawClient> clients = new ArrayList<>();
        for (String user : List.of("u1", "u2", "u3")) {
            RawClient client = server.raw();
            client.connectAs(user, null, null);
            socketOf(user);
            clients.add(client);
        }
        server.switchboard().drain(Duration.ZERO, Duration.ofSeconds(10));
        time.advance(Duration.ZERO);
        Await.until("all three dropped", () -> disconnects.size() == 3);
        time.advance(Duration.ofSeconds(1));
        assertEquals(Set.of(), expired);
        assertEquals(3, server.switchboard().root().detachedSessions().size());
        clients.forEach(RawClient::abort);
    }

    /** A client whose address, as the trusted proxy in front names it, is user {@code a…}, {@code b…} or {@code c…}'s own. */
    private RawClient behindTheProxy(String user) {
        return RawClient.connect(server.webSocketUri(), Map.of("X-Forwarded-For", "198.51.100." + (user.charAt(0) - 'a' + 1)));
    }
}
