package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.testing.Heap;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonObject;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bad input gets a clear error and costs the sender, never the other clients: malformed frames,
 * unknown and reserved events, unknown namespaces, floods and oversized messages. The server runs
 * with the default limits (100 events/s, burst 200; 1 MiB messages; 16 namespaces).
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BadInputTest {
    /** Every event name a client may not send: they belong to the lifecycle. */
    private static final List<String> RESERVED = List.of("connect", "connect_error", "disconnect", "disconnecting",
            "error", "ping", "pong", "hello", "newListener", "removeListener");
    /**
     * What this JVM may allocate, client and server together, for one message of up to 1 MiB:
     * about twice what they do (11 MiB, see the figures), less than building half a million
     * values would take.
     */
    private static final long ALLOCATION_BOUND = 24L << 20;
    /** Heap 3000 namespace cycles may leave behind in all, far above the noise (up to 2 MiB); 2.8 KiB per cycle exceed it. */
    private static final long RETAINED_BOUND = 8L << 20;
    private static final BlockingQueue<DisconnectReason> REASONS = new LinkedBlockingQueue<>();
    /** What the lifecycle probes of namespace /lifecycle saw. */
    private static final BlockingQueue<String> LIFECYCLE = new LinkedBlockingQueue<>();
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.options().build(), sb -> {
            sb.onConnection(socket -> {
                socket.on("echo", event -> event.ack(event.args().list().toArray()));
                socket.on("measure", event -> event.ack(event.args().size(), event.args().raw(0).text().length()));
                socket.onDisconnect(REASONS::add);
            });
            sb.of("/chat");
            for (int i = 0; i < 20; i++) {
                sb.of("/n" + i);
            }
            sb.of("/lifecycle").onConnection(socket -> {
                LIFECYCLE.add("connection");
                socket.onAny((event, args) -> LIFECYCLE.add("any " + event));
                socket.onDisconnecting(reason -> LIFECYCLE.add("disconnecting"));
                socket.onDisconnect(reason -> LIFECYCLE.add("disconnect"));
                for (String name : RESERVED) {
                    socket.on(name, event -> LIFECYCLE.add("on " + name));
                }
                socket.on("echo", event -> event.ack(event.args().list().toArray()));
            });
        });
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static RawClient connected() {
        RawClient client = server.raw();
        assertEquals("connect", client.connectNamespace("/", null).getString("type"));
        return client;
    }

    private static void assertStillServed(RawClient client) {
        client.sendJson("{'type':'event','event':'echo','args':['still here'],'ack':99}");
        JsonObject ack = client.next("ack");
        assertEquals(99, ack.getInt("ack"));
        assertEquals("still here", ack.getJsonArray("args").getString(0));
    }

    private static JsonObject errorFor(RawClient client, String frame) {
        client.send(frame);
        return client.next("error");
    }

    @Test
    void malformedFramesGetAProtocolErrorAndOthersAreUnaffected() {
        try (RawClient bad = connected(); RawClient good = connected()) {
            String[][] cases = {
                {"{not json", "bad_packet"},
                {"[1,2,3]", "bad_packet"},
                {"{\"type\":\"teleport\"}", "bad_packet"},
                {"{\"type\":42}", "bad_packet"},
                {"{\"type\":\"event\",\"args\":[]}", "bad_event"},
                {"{\"type\":\"event\",\"event\":17,\"args\":[]}", "bad_event"},
                {"{\"type\":\"event\",\"event\":\"\",\"args\":[]}", "bad_event"},
                {"{\"type\":\"event\",\"event\":\"" + "e".repeat(129) + "\",\"args\":[]}", "bad_event"},
                {"{\"type\":\"event\",\"event\":\"echo\",\"args\":{}}", "bad_packet"},
            };
            for (String[] c : cases) {
                assertEquals(c[1], errorFor(bad, c[0]).getString("code"), c[0]);
            }
            assertStillServed(good);
        }
        // nine errors stay under the limit of ten: the bad client was warned, not cut off
    }

    /**
     * Sends one frame and returns the bytes this JVM (client and server both) allocated until
     * the answer arrived; asserts they stay under {@link #ALLOCATION_BOUND} and prints them.
     */
    private static JsonObject answerWithinAllocationBound(String what, RawClient client, String frame, String answerType) {
        long before = Heap.allocated();
        client.send(frame);
        JsonObject answer = client.next(answerType);
        long allocated = Heap.allocated() - before;
        System.out.println("figure: " + what + " (" + Heap.kib(frame.length()) + " KiB frame): " + Heap.kib(allocated)
                + " KiB allocated in this JVM, client and server, until the answer");
        assertTrue(allocated < ALLOCATION_BOUND, what + ": " + allocated + " bytes allocated");
        return answer;
    }

    private static String event(String name, String argsJson, int ack) {
        return "{\"type\":\"event\",\"event\":\"" + name + "\",\"ack\":" + ack + ",\"args\":" + argsJson + "}";
    }

    /** A JSON array of {@code count} zeros. */
    private static String zeros(int count) {
        return "[" + "0,".repeat(count - 1) + "0]";
    }

    @Test
    void deepNestingIsRefusedWithoutStackOverflowOrLargeAllocation() {
        try (RawClient client = connected(); RawClient bystander = connected()) {
            String deep = "[".repeat(100_000) + "]".repeat(100_000);
            JsonObject error = answerWithinAllocationBound("100 000 nested arrays", client,
                    event("echo", deep, 1), "error");
            assertEquals("bad_packet", error.getString("code"));
            assertTrue(error.getString("message").contains("nested deeper"), error.getString("message"));
            assertStillServed(client);
            assertStillServed(bystander);
        }
    }

    @Test
    void moreArgumentsThanAllowedAreRefusedWithoutBuildingThem() {
        try (RawClient client = connected(); RawClient bystander = connected()) {
            String allowed = zeros(dev.switchboard.protocol.JsonWireCodec.MAX_ARGS);
            assertEquals(dev.switchboard.protocol.JsonWireCodec.MAX_ARGS,
                    answerWithinAllocationBound("256 arguments", client, event("measure", allowed, 1), "ack")
                            .getJsonArray("args").getInt(0));
            // Half a million arguments, just under the 1 MiB message limit.
            JsonObject error = answerWithinAllocationBound("500 000 arguments", client,
                    event("measure", zeros(500_000), 2), "error");
            assertEquals("bad_packet", error.getString("code"));
            assertEquals("more than 256 arguments", error.getString("message"));
            assertStillServed(client);
            assertStillServed(bystander);
        }
    }

    @Test
    void oneHugeArrayArgumentStaysOneSliceOfTheFrame() {
        try (RawClient client = connected(); RawClient bystander = connected()) {
            String huge = zeros(500_000);
            JsonObject ack = answerWithinAllocationBound("one argument, an array of 500 000 numbers", client,
                    event("measure", "[" + huge + "]", 1), "ack");
            assertEquals(1, ack.getJsonArray("args").getInt(0), "one argument");
            assertEquals(huge.length(), ack.getJsonArray("args").getInt(1), "kept whole, as received");
            assertStillServed(client);
            assertStillServed(bystander);
        }
    }

    /**
     * A socket remembers the last 1000 {@code msgId}s its client sent (docs/PROTOCOL.md), each
     * chosen by the client: ids as long as a message would let one socket hold a gigabyte of
     * them, and every namespace of a connection as much again. Ids are 1 to 128 characters.
     */
    @Test
    void longMessageIdsAreRefusedAndNotRemembered() {
        int sends = 9;  // each refused: one short of the protocol errors that end a connection
        try (RawClient client = connected()) {
            long heapBefore = Heap.retained();
            List<JsonObject> answers = new ArrayList<>();
            for (int i = 1; i <= sends; i++) {
                client.send("{\"type\":\"event\",\"event\":\"echo\",\"args\":[],\"ack\":" + i
                        + ",\"msgId\":\"" + i + "m".repeat(1_000_000) + "\"}");
                answers.add(client.next(p -> "ack".equals(p.getString("type")) || "error".equals(p.getString("type"))));
            }
            long kept = Heap.retained() - heapBefore;
            System.out.println("figure: " + sends + " events with msgIds of 1 000 000 characters: heap " + Heap.change(kept)
                    + " from the level before them (client and server share this JVM)");
            assertTrue(kept < 4L << 20, kept + " bytes retained for " + sends + " msgIds of a million characters");
            for (JsonObject answer : answers) {
                assertEquals("error", answer.getString("type"), "answer to an over-long msgId: " + answer);
                assertEquals("bad_packet", answer.getString("code"));
                assertTrue(answer.getString("message").contains("msgId"), answer.getString("message"));
            }
            client.send("{\"type\":\"event\",\"event\":\"echo\",\"args\":[\"at the limit\"],\"ack\":99,\"msgId\":\""
                    + "m".repeat(128) + "\"}");
            JsonObject ack = client.next("ack");
            assertEquals(99, ack.getInt("ack"));
            assertEquals("at the limit", ack.getJsonArray("args").getString(0));
        }
    }

    /**
     * A socket keeps the answer to each of its client's last 1000 {@code msgId}s for the retries
     * (docs/PROTOCOL.md). A listener that answers with what it was sent (an echo, a stored
     * record) made it keep 1000 answers of a message's size each, up to a gigabyte per socket,
     * a thousand times the replay log's bound: the answers kept are bounded in size too.
     */
    @Test
    void answersKeptForRetriedMessagesAreBoundedInSize() {
        int sends = 40;  // within the burst of 200
        String big = "x".repeat(500_000);
        try (RawClient client = connected()) {
            long heapBefore = Heap.retained();
            for (int i = 1; i <= sends; i++) {
                client.send("{\"type\":\"event\",\"event\":\"echo\",\"args\":[\"" + big + "\"],\"ack\":" + i
                        + ",\"msgId\":\"big-" + i + "\"}");
                assertEquals(i, client.next("ack").getInt("ack"));
            }
            long kept = Heap.retained() - heapBefore;
            System.out.println("figure: " + sends + " echoed events of 500 000 characters, each with a msgId: heap "
                    + Heap.change(kept) + " from the level before them (client and server share this JVM)");
            assertTrue(kept < 8L << 20, kept + " bytes retained for the answers to " + sends + " messages of 500 000 characters");
            // The newest answers are still kept: a retry is answered again, not handled again.
            client.send("{\"type\":\"event\",\"event\":\"echo\",\"args\":[\"again\"],\"ack\":99,\"msgId\":\"big-"
                    + sends + "\"}");
            JsonObject ack = client.next("ack");
            assertEquals(99, ack.getInt("ack"));
            assertEquals(big, ack.getJsonArray("args").getString(0), "the answer the message got, not a new one");
        }
    }

    @Test
    void reservedEventNamesNeverReachLifecycleHandlers() throws InterruptedException {
        try (RawClient bystander = connected()) {
            // A connection each: ten refusals would be ten protocol errors, enough to be cut off.
            for (String name : RESERVED) {
                try (RawClient client = server.raw()) {
                    assertEquals("connect", client.connectNamespace("/lifecycle", null).getString("type"));
                    JsonObject error = errorFor(client,
                            "{\"type\":\"event\",\"nsp\":\"/lifecycle\",\"event\":\"" + name + "\",\"args\":[]}");
                    assertEquals("bad_event", error.getString("code"), name);
                    // Frames are handled in order: the fence's answer comes after the refused event.
                    client.sendJson("{'type':'event','nsp':'/lifecycle','event':'echo','args':['fence'],'ack':7}");
                    assertEquals(7, client.next("ack").getInt("ack"));
                    assertEquals(List.of("connection", "any echo"), drain(LIFECYCLE),
                            "'" + name + "' ran no connection, disconnect or listener of that name");
                }
                // The probes work: a real disconnect reaches them, once each.
                assertEquals("disconnecting", LIFECYCLE.poll(10, TimeUnit.SECONDS));
                assertEquals("disconnect", LIFECYCLE.poll(10, TimeUnit.SECONDS));
                assertStillServed(bystander);
            }
        }
    }

    private static List<String> drain(BlockingQueue<String> queue) {
        List<String> all = new ArrayList<>();
        queue.drainTo(all);
        return all;
    }

    @Test
    void unknownEventIsNoErrorAndItsAckIsAnswered() {
        try (RawClient client = connected()) {
            long before = server.switchboard().metrics().unhandledEvents();
            client.sendJson("{'type':'event','event':'nobody-listens','args':[1],'ack':5}");
            JsonObject ack = client.next("ack");
            assertEquals(5, ack.getInt("ack"));
            assertEquals(0, ack.getJsonArray("args").size());
            assertEquals(before + 1, server.switchboard().metrics().unhandledEvents());
            assertStillServed(client);
        }
    }

    @Test
    void namespacesMustBeKnownAndConnected() {
        try (RawClient fresh = server.raw()) {
            // Straight after the hello, before any connect.
            assertEquals("no_namespace", errorFor(fresh, "{\"type\":\"event\",\"event\":\"echo\",\"args\":[],\"ack\":1}")
                    .getString("code"));
            assertEquals("no_namespace", errorFor(fresh, "{\"type\":\"ack\",\"ack\":1,\"args\":[]}").getString("code"));
            assertEquals("connect", fresh.connectNamespace("/", null).getString("type"));
            assertStillServed(fresh);
        }
        try (RawClient client = connected()) {
            JsonObject refused = client.connectNamespace("/nowhere", null);
            assertEquals("connect_error", refused.getString("type"));
            assertEquals("Invalid namespace", refused.getString("message"));
            assertEquals("no_namespace", errorFor(client, "{\"type\":\"event\",\"nsp\":\"/chat\",\"event\":\"echo\",\"args\":[]}")
                    .getString("code"));
            assertEquals("connect", client.connectNamespace("/chat", null).getString("type"));
            assertEquals("connect_error", client.connectNamespace("/chat", null).getString("type"));
        }
    }

    @Test
    void namespacesPerConnectionAreBoundedAndReconnectsDoNotAccumulate() throws InterruptedException {
        Switchboard sb = server.switchboard();
        Namespace n0 = sb.of("/n0");
        int cycles = 3000;
        try (RawClient client = connected()) {
            int storedBefore = sb.options().sessionStore().size();
            long heapBefore = Heap.retained();
            for (int i = 0; i < cycles; i++) {
                assertEquals("connect", client.connectNamespace("/n0", null).getString("type"));
                client.sendJson("{'type':'disconnect','nsp':'/n0'}");
            }
            assertStillServed(client);
            long left = Heap.retained() - heapBefore;
            System.out.println("figure: " + cycles + " namespace connect/disconnect cycles on one connection: heap "
                    + Heap.change(left) + " from the level before them (client and server share this JVM)");
            assertTrue(n0.sockets().isEmpty() && n0.adapter().rooms().join().isEmpty() && n0.detachedSessions().isEmpty(),
                    "no socket, room or session of /n0 left");
            assertEquals(storedBefore, sb.options().sessionStore().size(), "no session stored");
            assertTrue(left < RETAINED_BOUND, left + " bytes retained after " + cycles + " cycles");
            int limit = server.switchboard().options().maxNamespaces();
            for (int i = 1; i < limit; i++) {
                assertEquals("connect", client.connectNamespace("/n" + i, null).getString("type"));
            }
            JsonObject refused = client.connectNamespace("/n" + limit, null);
            assertEquals("connect_error", refused.getString("type"));
            assertEquals("too many namespaces on one connection", refused.getString("message"));
            assertStillServed(client);
        }
    }

    @Test
    void aBinaryFrameWithNoPacketWaitingClosesTheConnection() {
        try (RawClient client = connected()) {
            client.sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            assertEquals(1008, client.awaitClose());
        }
    }

    @Test
    void moreAttachmentsThanAllowedCloseTheConnection() {
        try (RawClient client = connected()) {
            client.sendJson("{'type':'event','event':'e','args':[],'attachments':11}");
            assertEquals(1008, client.awaitClose());
        }
    }

    @Test
    void aTextFrameWhileAttachmentsAreDueClosesTheConnection() {
        try (RawClient client = connected()) {
            client.sendJson("{'type':'event','event':'e','args':[{'_placeholder':true,'num':0}],'attachments':1}");
            client.sendJson("{'type':'event','event':'e','args':[]}");
            assertEquals(1008, client.awaitClose());
        }
    }

    @Test
    void floodIsThrottledThenCutOff() throws InterruptedException {
        SwitchboardOptions options = server.switchboard().options();
        assertEquals(100.0, options.eventsPerSecond(), "the default rate, as documented");
        assertEquals(200, options.eventBurst(), "the default burst, as documented");
        REASONS.clear();
        try (RawClient flooder = connected(); RawClient bystander = connected()) {
            // The burst at once, then twice the sustained rate: refused events, but fewer per second
            // than the burst, so the flooder is throttled, not yet cut off.
            AtomicBoolean throttling = new AtomicBoolean(true);
            Thread paced = new Thread(() -> {
                for (int i = 0; i < options.eventBurst(); i++) {
                    flooder.send("{\"type\":\"event\",\"event\":\"echo\",\"args\":[]}");
                }
                while (throttling.get()) {
                    flooder.send("{\"type\":\"event\",\"event\":\"echo\",\"args\":[]}");
                    sleep(Math.round(1000 / (2 * options.eventsPerSecond())));
                }
            });
            paced.start();
            assertEquals("rate_limited", flooder.next("error").getString("code"));
            for (int i = 0; i < 3; i++) {
                long asked = System.nanoTime();
                assertStillServed(bystander);
                System.out.println("figure: bystander's echo answered in " + (System.nanoTime() - asked) / 1000
                        + " us while the flooder is throttled");
            }
            assertEquals("rate_limited", flooder.next("error").getString("code"), "still throttled meanwhile");
            throttling.set(false);
            paced.join();
            assertFalse(flooder.isClosed(), "throttled, not cut off");
            for (int i = 0; i < 2000 && !flooder.isClosed(); i++) {
                try {
                    flooder.send("{\"type\":\"event\",\"event\":\"echo\",\"args\":[]}");
                } catch (RuntimeException closedMeanwhile) {
                    break;
                }
            }
            // The server closes with 1008; a client still writing may see the reset before the close frame.
            DisconnectReason reason;
            do {
                reason = REASONS.poll(10, TimeUnit.SECONDS);
            } while (reason != null && reason != DisconnectReason.POLICY_VIOLATION);
            assertEquals(DisconnectReason.POLICY_VIOLATION, reason);
            flooder.awaitClose();
            assertStillServed(bystander);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void messageAtTheLimitIsAcceptedOneByteMoreCloses1009() {
        int limit = server.switchboard().options().maxPayloadBytes();
        String head = "{\"type\":\"event\",\"event\":\"echo\",\"ack\":3,\"args\":[\"";
        String tail = "\"]}";
        String fill = "\u00e9".repeat((limit - head.length() - tail.length()) / 2);
        String exact = head + fill + "a".repeat(limit - head.length() - tail.length() - fill.length() * 2) + tail;
        assertEquals(limit, dev.switchboard.protocol.Frame.utf8Length(exact));
        try (RawClient client = connected(); RawClient bystander = connected()) {
            client.send(exact);
            assertEquals(3, client.next("ack").getInt("ack"));
            client.send(exact.replace("\"args\":[\"", "\"args\":[\"b"));
            assertEquals(1009, client.awaitClose());
            assertStillServed(bystander);
        }
        assertFalse(server.switchboard().metrics().oversizedMessages() == 0);
    }
}
