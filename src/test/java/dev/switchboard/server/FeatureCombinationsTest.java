package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Features that are right alone and broke together, found by a review that combined them:
 * broadcasts with acks with a drop, a recovery and the pending-ack bound; live traffic with a new
 * socket's connect and a recovery's replay; at-least-once message ids with a small replay bound.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class FeatureCombinationsTest {
    private final Map<String, Socket> byUser = new ConcurrentHashMap<>();
    private final BlockingQueue<String> disconnects = new LinkedBlockingQueue<>();
    private final AtomicInteger handled = new AtomicInteger();
    private TestServer server;

    private void start(SwitchboardOptions.Builder options) {
        start(options, socket -> { });
    }

    private void start(SwitchboardOptions.Builder options, Consumer<Socket> onConnection) {
        server = TestServer.start(options.build(), sb -> {
            sb.use(socket -> socket.userId(socket.handshake().auth(Map.class).get("user").toString()));
            sb.onConnection(socket -> {
                socket.join("room");
                socket.on("inc", event -> event.ack(handled.incrementAndGet()));
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

    /** Events (not pings) that arrive within a quiet spell. */
    private static List<JsonObject> drain(RawClient client, Duration quiet) throws InterruptedException {
        List<JsonObject> events = new ArrayList<>();
        for (String frame = client.poll(quiet); frame != null; frame = client.poll(quiet)) {
            JsonObject packet = RawClient.parse(frame);
            if ("event".equals(packet.getString("type", ""))) {
                events.add(packet);
            }
        }
        return events;
    }

    /**
     * A client is behind: the kernel's buffers toward it are full and a frame is in flight, with
     * nothing queued behind it. A volatile event then does not fit in its send queue beside the
     * frame in flight. A volatile event is dropped for a client that is behind (docs/PROTOCOL.md,
     * and a full server-wide budget drops it too); it must not cut the client off as a slow
     * consumer, which it did: the client lost its connection for an event it may miss anyway.
     */
    @Test
    void aVolatileEventThatDoesNotFitBesideTheFrameInFlightIsDroppedNotACut() throws Exception {
        int bound = 256 * 1024;
        start(TestServer.options().sendQueueBytes(bound));
        RawClient una = server.raw();
        una.connectAs("una", null, null);
        Connection connection = socketOf("una").connection();
        una.stopReading();
        String chunk = "c".repeat(16 * 1024);
        int chunks = 0;
        // A frame the socket takes whole is written before emit returns; the first one that
        // stays counted is in flight, the kernel's buffers full, with nothing behind it.
        while (connection.queuedBytes() == 0 && chunks < 10_000) {
            server.switchboard().toUser("una").emit("chunk", chunks++, chunk);
        }
        assertTrue(connection.queuedBytes() > 0, "a frame stays in flight");
        assertEquals(0, connection.waitingBytes(), "nothing waits behind the frame in flight");
        long droppedBefore = server.switchboard().metrics().droppedVolatile();

        // Fits the queue on its own, not beside the frame in flight.
        server.switchboard().toUser("una").asVolatile().emit("tick", "t".repeat(bound - 1024));

        assertEquals(0, server.switchboard().metrics().slowConsumers(), "cut off as a slow consumer for a volatile event");
        assertEquals(droppedBefore + 1, server.switchboard().metrics().droppedVolatile(), "the volatile event was dropped");
        una.resumeReading();
        List<Integer> received = new ArrayList<>();
        while (received.size() < chunks) {
            JsonObject packet = una.next("event");
            assertEquals("chunk", eventName(packet), "only the chunks, no tick");
            received.add(packet.getJsonArray("args").getInt(0));
        }
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < chunks; i++) {
            expected.add(i);
        }
        assertEquals(expected, received);
        una.sendJson("{'type':'event','event':'inc','args':[],'ack':1}");
        una.next("ack");
        assertEquals(List.of(), List.copyOf(disconnects), "cut off for a volatile event");
        assertTrue(socketOf("una").connected());
        una.close();
    }

    /**
     * The application disconnects a socket from its namespace (the connection stays open) while
     * events stream to its user from another thread. The client is told {@code disconnect}; no
     * event of that socket may follow it: the client has closed the socket and drops it, or, as
     * socket.io-client does, holds it for the next connect, where it reads as the new socket's.
     * Each round the client then connects the namespace again, whose answer closes what is checked.
     * Events with offsets are queued under the socket's log lock; volatile ones, and every event
     * when recovery is off, were queued past it and could still follow the packet.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"logged events", "volatile events", "events with recovery off"})
    void noEventFollowsTheDisconnectPacketOfASocketTheServerDisconnects(String stream) throws Exception {
        start(stream.endsWith("recovery off") ? TestServer.options().recoveryWindow(Duration.ZERO) : TestServer.options());
        boolean volatileEvents = stream.startsWith("volatile");
        RawClient ivy = server.raw();
        List<String> problems = new ArrayList<>();
        try {
            for (int round = 0; round < 40 && problems.isEmpty(); round++) {
                ivy.connectAs("ivy", null, null);
                Socket socket = socketOf("ivy");
                AtomicBoolean ticking = new AtomicBoolean(true);
                Thread ticker = new Thread(() -> {
                    long n = 0;
                    while (ticking.get()) {
                        if (volatileEvents) {
                            server.switchboard().toUser("ivy").asVolatile().emit("seq", n++);
                        } else {
                            server.switchboard().toUser("ivy").emit("seq", n++);
                        }
                    }
                });
                ticker.setDaemon(true);
                ticker.start();
                try {
                    ivy.next(p -> "seq".equals(eventName(p)));
                    socket.disconnect();
                } finally {
                    ticking.set(false);
                    ticker.join();
                }
                ivy.sendConnect("ivy", null, null);
                List<String> afterDisconnect = new ArrayList<>();
                boolean told = false;
                for (JsonObject packet = ivy.nextPacket(); !"connect".equals(packet.getString("type"));
                        packet = ivy.nextPacket()) {
                    if ("disconnect".equals(packet.getString("type"))) {
                        told = true;
                    } else if (told && "event".equals(packet.getString("type"))) {
                        afterDisconnect.add(eventName(packet) + " " + packet.getJsonArray("args").get(0));
                    }
                }
                assertTrue(told, "round " + round + ": the client was told disconnect");
                if (!afterDisconnect.isEmpty()) {
                    problems.add("round " + round + ": after the disconnect packet " + afterDisconnect);
                }
            }
        } finally {
            ivy.close();
        }
        assertEquals(List.of(), problems);
    }

    /**
     * A broadcast with acks to a room while one member is away (dropped, its session waiting):
     * the event has an offset and every other member gets it, so the away member gets it in its
     * replay (without the ack request) when it recovers. It was missing from the replay of a
     * recovery that said recovered: true.
     */
    @Test
    void aBroadcastWithAckSentWhileAMemberIsAwayIsReplayedToItOnRecovery() throws Exception {
        start(TestServer.options());
        RawClient alice = server.raw();
        alice.connectAs("alice", null, null);
        RawClient bob = server.raw();
        JsonObject first = bob.connectAs("bob", null, null);
        socketOf("alice");
        socketOf("bob");
        server.switchboard().to("room").emit("before", 1);
        String lastOffset = bob.next(p -> "before".equals(eventName(p))).getString("offset");
        bob.abort();
        assertEquals("bob:transport close", disconnects.poll(10, TimeUnit.SECONDS));

        server.switchboard().to("room").timeout(Duration.ofMillis(500)).emitWithAck("question", 2);
        JsonObject asked = alice.next(p -> "question".equals(eventName(p)));
        assertTrue(asked.containsKey("offset"), asked.toString());
        server.switchboard().to("room").emit("after", 3);

        try (RawClient back = server.raw()) {
            JsonObject again = back.connectAs("bob", first.getString("pid"), lastOffset);
            assertTrue(again.getBoolean("recovered"), again.toString());
            List<String> names = new ArrayList<>();
            for (JsonObject event : drain(back, Duration.ofMillis(700))) {
                names.add(eventName(event));
            }
            assertEquals(List.of("question", "after"), names,
                    "recovered: true must replay every event sent to the room while away (the question had offset "
                            + asked.getString("offset") + ")");
        }
        alice.close();
    }

    /**
     * At-least-once emits (msgId) and the replay bound: the server remembers the last 1000 msgIds
     * per session (docs/PROTOCOL.md) whatever recoveryMaxEvents is. That memory was sized by it,
     * so a server that bounded its replay log to a few events handed a retried msgId to the
     * application twice.
     */
    @Test
    void aSmallReplayBoundDoesNotShrinkTheMsgIdMemory() throws Exception {
        start(TestServer.options().recoveryLimits(5, 1 << 20));
        try (RawClient client = server.raw()) {
            client.connectAs("carol", null, null);
            for (int i = 0; i < 8; i++) {
                client.send("{\"type\":\"event\",\"event\":\"inc\",\"args\":[],\"ack\":" + (i + 1)
                        + ",\"msgId\":\"m" + i + "\"}");
                JsonObject ack = client.next("ack");
                assertEquals(i + 1, ack.getInt("ack"));
            }
            assertEquals(8, handled.get());
            // The client never saw its answer to m0 (say) and retries it, well within the 1000 promised.
            client.send("{\"type\":\"event\",\"event\":\"inc\",\"args\":[],\"ack\":9,\"msgId\":\"m0\"}");
            JsonObject ack = client.next("ack");
            assertEquals(9, ack.getInt("ack"));
            assertEquals(8, handled.get(), "m0 was handed to the application a second time; answer " + ack);
        }
    }



    /**
     * A member of a room that owes the server acks up to maxPendingAcks (a client slow to answer
     * questions) is connected and reading: a broadcast with acks to its room reaches it like any
     * event (logged, with its offset), only without an answer awaited from it. It was skipped,
     * neither sent nor logged, while a plain broadcast right after reached it.
     */
    @Test
    void aMemberOwingManyAcksStillReceivesABroadcastWithAck() throws Exception {
        start(TestServer.options().maxPendingAcks(2));
        RawClient erin = server.raw();
        erin.connectAs("erin", null, null);
        RawClient frank = server.raw();
        frank.connectAs("frank", null, null);
        Socket socket = socketOf("erin");
        socketOf("frank");
        socket.timeout(Duration.ofSeconds(30)).emitWithAck("q", 1);
        socket.timeout(Duration.ofSeconds(30)).emitWithAck("q", 2);
        var result = server.switchboard().to("room").timeout(Duration.ofMillis(500)).emitWithAck("poll", "lunch?");
        server.switchboard().to("room").emit("after", 3);
        List<String> names = new ArrayList<>();
        for (JsonObject event : drain(erin, Duration.ofMillis(700))) {
            names.add(eventName(event));
        }
        String outcome;
        try {
            outcome = "answers " + result.get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            outcome = e.getCause().toString();
        }
        assertEquals(List.of("q", "q", "poll", "after"), names, "broadcast outcome: " + outcome);
        erin.close();
        frank.close();
    }

    /**
     * A broadcast with acks to two members; one drops before answering, the other answers at
     * once: the broadcast completes with that answer, as an emitWithAck owed at a drop fails at
     * the drop. Nothing told the broadcast, so the application waited its whole timeout.
     */
    @Test
    void aBroadcastWithAckDoesNotWaitItsTimeoutForAMemberThatDropped() throws Exception {
        start(TestServer.options());
        RawClient gina = server.raw();
        gina.connectAs("gina", null, null);
        RawClient hank = server.raw();
        hank.connectAs("hank", null, null);
        socketOf("gina");
        socketOf("hank");
        var result = server.switchboard().to("room").timeout(Duration.ofSeconds(30)).emitWithAck("poll", "lunch?");
        JsonObject toGina = gina.next(p -> "poll".equals(eventName(p)));
        hank.next(p -> "poll".equals(eventName(p)));
        hank.abort();
        assertEquals("hank:transport close", disconnects.poll(10, TimeUnit.SECONDS));
        gina.send("{\"type\":\"ack\",\"ack\":" + toGina.getJsonNumber("ack").longValue() + ",\"args\":[\"yes\"]}");
        // Completes with gina's answer, not at the timeout without hank's: hank's socket ended.
        List<Arguments> answers = result.get(10, TimeUnit.SECONDS);
        assertEquals(1, answers.size());
        assertEquals("yes", answers.get(0).get(0, String.class));
        gina.close();
    }

    private static String presence(JsonObject event) {
        JsonObject arg = event.getJsonArray("args").getJsonObject(0);
        String name = eventName(event).substring("presence:".length());
        if ("list".equals(name)) {
            List<String> users = new ArrayList<>();
            arg.getJsonArray("users").forEach(u -> users.add(u.asJsonObject().getString("userId")
                    + (u.asJsonObject().getBoolean("away") ? "(away)" : "")));
            return "list" + users;
        }
        return name + ":" + arg.getJsonObject("user").getString("userId");
    }

    private static List<String> presenceEvents(RawClient client, Duration quiet) throws InterruptedException {
        List<String> seen = new ArrayList<>();
        for (JsonObject event : drain(client, quiet)) {
            if (eventName(event).startsWith("presence:")) {
                seen.add(presence(event));
            }
        }
        return seen;
    }


    /**
     * Volatile events (a live stream of ticks) to a client that recovers: the replay must come
     * before any new event. The volatile path does not take the log lock that orders the replay;
     * a tick got in between the socket turning connected and its connect answer, or between the
     * connect answer and the missed events. A socket now turns connected only after both.
     */
    @Test
    void aVolatileStreamDoesNotOvertakeTheReplayOfARecoveringClient() throws Exception {
        start(TestServer.options());
        RawClient ivy = server.raw();
        JsonObject session = ivy.connectAs("ivy", null, null);
        socketOf("ivy");
        AtomicBoolean ticking = new AtomicBoolean(true);
        Thread ticker = new Thread(() -> {
            long n = 0;
            while (ticking.get()) {
                server.switchboard().toUser("ivy").asVolatile().emit("tick", n++);
                if ((n & 0xff) == 0) {
                    Thread.onSpinWait();
                }
            }
        });
        ticker.setDaemon(true);
        ticker.start();
        List<String> problems = new ArrayList<>();
        String offset = null;
        try {
            for (int round = 0; round < 40 && problems.size() < 6; round++) {
                server.switchboard().toUser("ivy").emit("seq", round * 10);
                JsonObject seen = ivy.next(p -> "seq".equals(eventName(p)));
                offset = seen.getString("offset");
                ivy.abort();
                assertEquals("ivy:transport close", disconnects.poll(10, TimeUnit.SECONDS));
                for (int i = 1; i <= 3; i++) {
                    server.switchboard().toUser("ivy").emit("seq", round * 10 + i);
                }
                RawClient back = server.raw();
                String pid = session.getString("pid");
                back.send("{\"type\":\"connect\",\"auth\":{\"user\":\"ivy\"},\"pid\":\"" + pid + "\",\"offset\":\"" + offset + "\"}");
                List<String> order = new ArrayList<>();
                while (order.stream().filter(x -> x.startsWith("seq")).count() < 3) {
                    JsonObject packet = back.nextPacket();
                    String type = packet.getString("type");
                    if ("connect".equals(type)) {
                        assertTrue(packet.getBoolean("recovered"), packet.toString());
                        session = packet;
                        order.add("connect");
                    } else if ("event".equals(type)) {
                        order.add(eventName(packet) + ("seq".equals(eventName(packet)) ? packet.getJsonArray("args").get(0) + "@" + packet.getString("offset") : "")
                                + (order.contains("connect") ? "" : "(before connect)"));
                    }
                }
                int firstTick = order.indexOf("tick");
                int lastSeq = 0;
                for (int k = 0; k < order.size(); k++) {
                    if (order.get(k).startsWith("seq")) {
                        lastSeq = k;
                    }
                }
                if (order.get(0).startsWith("tick") || (firstTick >= 0 && firstTick < lastSeq)) {
                    problems.add("round " + round + " (client offset " + offset + "): " + order);
                }
                ivy = back;
            }
        } finally {
            ticking.set(false);
            ticker.join();
        }
        assertEquals(List.of(), problems);
        ivy.close();
    }

    /**
     * A user that gets steady notifications (toUser, logged, with offsets) opens a new tab: no
     * notification reaches the new socket before its connect answer. The socket turned connected
     * before its connect answer was queued, outside the lock deliveries take, so notifications
     * went out first; the Java client drops an event for a namespace it is not connected to, so
     * those events, which the server counted as delivered, were lost.
     */
    @Test
    void noLoggedEventReachesANewSocketBeforeItsConnectAnswer() throws Exception {
        start(TestServer.options());
        AtomicBoolean ticking = new AtomicBoolean(true);
        Thread ticker = new Thread(() -> {
            long n = 0;
            while (ticking.get()) {
                server.switchboard().toUser("kim").emit("note", n++);
                java.util.concurrent.locks.LockSupport.parkNanos(20_000);
            }
        });
        ticker.setDaemon(true);
        ticker.start();
        List<String> problems = new ArrayList<>();
        try {
            for (int round = 0; round < 150 && problems.size() < 5; round++) {
                try (RawClient tab = server.raw()) {
                    tab.send("{\"type\":\"connect\",\"auth\":{\"user\":\"kim\"}}");
                    List<String> before = new ArrayList<>();
                    while (true) {
                        JsonObject packet = tab.nextPacket();
                        if ("connect".equals(packet.getString("type"))) {
                            break;
                        }
                        if ("event".equals(packet.getString("type"))) {
                            before.add(packet.toString());
                        }
                    }
                    if (!before.isEmpty()) {
                        problems.add("round " + round + ": before the connect answer " + before);
                    }
                }
            }
        } finally {
            ticking.set(false);
            ticker.join();
        }
        assertEquals(List.of(), problems);
    }

    /**
     * The same through the Java client: the notes the server logged as delivered to the new tab
     * (its replay log, nothing confirmed yet) against those the client handed to its listener.
     */
    @Test
    void theJavaClientGetsEveryNoteTheServerDeliveredToItsNewTab() throws Exception {
        start(TestServer.options());
        AtomicBoolean ticking = new AtomicBoolean(true);
        Thread ticker = new Thread(() -> {
            long n = 0;
            while (ticking.get()) {
                server.switchboard().toUser("lee").emit("note", n++);
                java.util.concurrent.locks.LockSupport.parkNanos(20_000);
            }
        });
        ticker.setDaemon(true);
        ticker.start();
        List<String> problems = new ArrayList<>();
        try {
            for (int round = 0; round < 60 && problems.size() < 5; round++) {
                List<Long> got = java.util.Collections.synchronizedList(new ArrayList<>());
                // Not connecting before the listener is on: notes sent at once would find none.
                try (dev.switchboard.client.SwitchboardClient client = dev.switchboard.client.SwitchboardClient.connect(
                        server.webSocketUri(), dev.switchboard.client.ClientOptions.builder().autoConnect(false).build())) {
                    dev.switchboard.client.ClientSocket tab = client.socket("/", Map.of("user", "lee"));
                    tab.on("note", Long.class, got::add);
                    tab.connect();
                    tab.whenConnected().get(10, TimeUnit.SECONDS);
                    String id = tab.id();
                    Await.until("a note", () -> got.size() >= 3);
                    Socket socket = server.switchboard().root().sockets().get(id);
                    long firstLogged;
                    synchronized (socket.log()) {
                        firstLogged = dev.switchboard.protocol.Arguments.from(socket.log().after(null).get(0).packet())
                                .get(0, Long.class);
                    }
                    long firstReceived = got.get(0);
                    if (firstLogged != firstReceived) {
                        problems.add("round " + round + ": the server delivered note " + firstLogged
                                + " first, the client's listener got " + firstReceived + " first");
                    }
                }
            }
        } finally {
            ticking.set(false);
            ticker.join();
        }
        assertEquals(List.of(), problems);
    }


    /**
     * Two connections present one pid at the same moment while the old connection is still open
     * (the server has not noticed it died): exactly one recovers, gets the missed event once;
     * the other is a fresh socket; nothing is left behind.
     */
    @Test
    void twoRecoveriesRaceForOneSessionWhileItsOldConnectionIsStillOpen() throws Exception {
        start(TestServer.options());
        List<String> outcomes = new ArrayList<>();
        for (int round = 0; round < 10; round++) {
            RawClient old = server.raw();
            JsonObject first = old.connectAs("ned", null, null);
            socketOf("ned");
            server.switchboard().toUser("ned").emit("seen", round);
            String offset = old.next(p -> "seen".equals(eventName(p))).getString("offset");
            old.stopReading();
            server.switchboard().toUser("ned").emit("missed", round);
            RawClient a = server.raw();
            RawClient b = server.raw();
            String connect = "{\"type\":\"connect\",\"auth\":{\"user\":\"ned\"},\"pid\":\"" + first.getString("pid")
                    + "\",\"offset\":\"" + offset + "\"}";
            Thread ta = new Thread(() -> a.send(connect));
            Thread tb = new Thread(() -> b.send(connect));
            ta.start();
            tb.start();
            ta.join();
            tb.join();
            JsonObject ca = a.next(p -> p.getString("type").startsWith("connect"));
            JsonObject cb = b.next(p -> p.getString("type").startsWith("connect"));
            int recovered = (ca.getBoolean("recovered", false) ? 1 : 0) + (cb.getBoolean("recovered", false) ? 1 : 0);
            RawClient winner = ca.getBoolean("recovered", false) ? a : b;
            RawClient loser = winner == a ? b : a;
            List<String> winnerGot = new ArrayList<>();
            drain(winner, Duration.ofMillis(200)).forEach(e -> winnerGot.add(eventName(e)));
            List<String> loserGot = new ArrayList<>();
            drain(loser, Duration.ofMillis(50)).forEach(e -> loserGot.add(eventName(e)));
            if (recovered != 1 || !winnerGot.equals(List.of("missed")) || !loserGot.isEmpty()) {
                outcomes.add("round " + round + ": recovered " + recovered + ", winner got " + winnerGot + ", loser got " + loserGot);
            }
            a.close();
            b.close();
            old.abort();
            Await.until("nothing left", () -> server.switchboard().root().sockets().isEmpty());
            byUser.clear();
        }
        assertEquals(List.of(), outcomes);
    }
}
