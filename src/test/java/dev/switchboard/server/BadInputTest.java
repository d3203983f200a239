package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonObject;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad input gets a clear error and costs the sender, never the other clients: malformed frames,
 * unknown and reserved events, unknown namespaces, floods and oversized messages.
 */
class BadInputTest {
    private static final java.util.concurrent.BlockingQueue<DisconnectReason> REASONS =
            new java.util.concurrent.LinkedBlockingQueue<>();
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.options().eventRate(50, 20).build(), sb -> {
            sb.onConnection(socket -> {
                socket.on("echo", event -> event.ack(event.args().list().toArray()));
                socket.onDisconnect(REASONS::add);
            });
            sb.of("/chat");
            for (int i = 0; i < 20; i++) {
                sb.of("/n" + i);
            }
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

    @Test
    void deepNestingIsRefusedWithoutStackOverflow() {
        try (RawClient client = connected()) {
            String deep = "[".repeat(100_000) + "]".repeat(100_000);
            JsonObject error = errorFor(client, "{\"type\":\"event\",\"event\":\"echo\",\"args\":" + deep + "}");
            assertEquals("bad_packet", error.getString("code"));
            assertTrue(error.getString("message").contains("nested deeper"), error.getString("message"));
            assertStillServed(client);
        }
    }

    @Test
    void reservedEventNamesNeverReachTheServer() {
        try (RawClient client = connected()) {
            for (String name : new String[] {"connect", "disconnect", "disconnecting", "error", "ping"}) {
                JsonObject error = errorFor(client, "{\"type\":\"event\",\"event\":\"" + name + "\",\"args\":[]}");
                assertEquals("bad_event", error.getString("code"), name);
            }
        }
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
    void namespacesPerConnectionAreBoundedAndReconnectsDoNotAccumulate() {
        try (RawClient client = connected()) {
            for (int i = 0; i < 2000; i++) {
                assertEquals("connect", client.connectNamespace("/n0", null).getString("type"));
                client.sendJson("{'type':'disconnect','nsp':'/n0'}");
            }
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
    void binaryFramesAreRefused() throws Exception {
        try (RawClient client = connected()) {
            java.lang.reflect.Field field = RawClient.class.getDeclaredField("webSocket");
            field.setAccessible(true);
            ((java.net.http.WebSocket) field.get(client)).sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3}), true).join();
            assertEquals("binary_unsupported", client.next("error").getString("code"));
            assertStillServed(client);
        }
    }

    @Test
    void floodIsThrottledThenCutOff() throws InterruptedException {
        try (RawClient flooder = connected(); RawClient bystander = connected()) {
            for (int i = 0; i < 60; i++) {
                flooder.send("{\"type\":\"event\",\"event\":\"echo\",\"args\":[" + i + "]}");
            }
            JsonObject limited = flooder.next("error");
            assertEquals("rate_limited", limited.getString("code"));
            assertStillServed(bystander);
            for (int i = 0; i < 200 && !flooder.isClosed(); i++) {
                try {
                    flooder.send("{\"type\":\"event\",\"event\":\"echo\",\"args\":[]}");
                } catch (RuntimeException closedMeanwhile) {
                    break;
                }
            }
            // The server closes with 1008; a client still writing may see the reset before the close frame.
            DisconnectReason reason;
            do {
                reason = REASONS.poll(10, java.util.concurrent.TimeUnit.SECONDS);
            } while (reason != null && reason != DisconnectReason.POLICY_VIOLATION);
            assertEquals(DisconnectReason.POLICY_VIOLATION, reason);
            flooder.awaitClose();
            assertStillServed(bystander);
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
