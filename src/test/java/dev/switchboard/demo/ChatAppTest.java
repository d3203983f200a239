package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The chat's rules at the protocol level, where no page checks anything first: who may take a
 * name, what the server refuses, and when a dropped user is announced gone.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ChatAppTest {
    /** Long enough for a new connection's refusal to come within it on a loaded machine. */
    private static final Duration RECOVERY_WINDOW = Duration.ofSeconds(2);

    private final TestServer server = TestServer.start(TestServer.options().recoveryWindow(RECOVERY_WINDOW).build(),
            DemoApp::install);
    private final List<RawClient> clients = new ArrayList<>();
    private final AtomicInteger ackIds = new AtomicInteger();

    @AfterEach
    void stop() {
        clients.forEach(RawClient::close);
        server.close();
    }

    @Test
    void aNameBelongsToTheTabsOfOneBrowser() {
        join("max", "browser-1");
        join("max", "browser-1"); // a second tab
        assertEquals("name taken", refusal("max", "browser-2"));
        assertEquals("name taken", refusal("max", null));
        assertEquals("choose a name", refusal("  ", "browser-2"));
        assertTrue(refusal("<script>", "browser-2").startsWith("a name is 1 to 24 letters"));
    }

    @Test
    void aNameStaysTakenWhileItsOwnerMayStillRecover() {
        RawClient watcher = join("wes", "browser-3");
        join("ned", "browser-1").abort();
        assertEquals("name taken", refusal("ned", "browser-2"));
        // Free once the window has ended, which the room is told: not a fixed time after the drop,
        // which a loaded machine may not have ended the session by.
        notice(watcher, "ned disconnected");
        join("ned", "browser-2");
    }

    @Test
    void theServerChecksWhatItIsSent() {
        RawClient oli = join("oli", "browser-1");
        join("pam", "browser-2");
        String tooLong = "x".repeat(ChatApp.MAX_MESSAGE_LENGTH + 1);
        assertEquals("{\"error\":\"message too long: 501 characters, at most 500\"}", ask(oli, "message", quote(tooLong)));
        assertEquals("{\"error\":\"empty message\"}", ask(oli, "message", "\" \""));
        assertEquals("{\"error\":\"empty message\"}", ask(oli, "message", "42"));
        assertEquals("{}", ask(oli, "message", quote("x".repeat(ChatApp.MAX_MESSAGE_LENGTH))));
        assertEquals("{\"error\":\"nobody called zed is here\"}", ask(oli, "private", "\"zed\",\"hi\""));
        assertEquals("{}", ask(oli, "private", "\"pam\",\"hi\""));
        assertEquals("{\"error\":\"a room name is 1 to 24 letters, digits, '_' or '-'\"}", ask(oli, "join", "\"no spaces\""));
        assertEquals("{\"room\":\"side\"}", ask(oli, "join", "\" Side \""));
    }

    @Test
    void aDroppedUserIsAnnouncedGoneWhenTheRecoveryWindowEnds() {
        RawClient quin = join("quin", "browser-1");
        RawClient rey = join("rey", "browser-2");
        notice(quin, "rey joined");

        long dropped = System.nanoTime();
        rey.abort();
        quin.next(packet -> "presence:away".equals(packet.getString("event", null))
                && packet.toString().contains("\"userId\":\"rey\""));
        notice(quin, "rey disconnected");
        assertTrue(System.nanoTime() - dropped >= RECOVERY_WINDOW.toNanos() - 50_000_000L, "not before the window ends");

        // A deliberate leave is announced at once.
        RawClient sam = join("sam", "browser-3");
        notice(quin, "sam joined");
        sam.sendJson("{'type':'disconnect','nsp':'/chat'}");
        notice(quin, "sam disconnected");
    }

    private RawClient join(String name, String key) {
        RawClient client = server.raw();
        clients.add(client);
        JsonObject answer = client.connectNamespace(ChatApp.NAMESPACE, auth(name, key));
        assertEquals("connect", answer.getString("type"), () -> "refused: " + answer);
        // Answered once the server's connection listener has returned: the user is fully in.
        assertEquals("{\"room\":\"general\"}", ask(client, "join", "\"general\""));
        return client;
    }

    private String refusal(String name, String key) {
        RawClient client = server.raw();
        clients.add(client);
        JsonObject answer = client.connectNamespace(ChatApp.NAMESPACE, auth(name, key));
        assertEquals("connect_error", answer.getString("type"), () -> "admitted: " + answer);
        return answer.getString("message");
    }

    private static String auth(String name, String key) {
        return "{\"name\":" + quote(name) + (key == null ? "" : ",\"key\":" + quote(key)) + "}";
    }

    /** Sends an event with an ack and returns the answer's first argument as JSON text. */
    private String ask(RawClient client, String event, String argsJson) {
        int id = ackIds.incrementAndGet();
        client.send("{\"type\":\"event\",\"nsp\":\"/chat\",\"event\":\"" + event + "\",\"args\":[" + argsJson
                + "],\"ack\":" + id + "}");
        JsonObject ack = client.next(packet -> "ack".equals(packet.getString("type")) && packet.getInt("ack", 0) == id);
        return ack.getJsonArray("args").get(0).toString();
    }

    private static void notice(RawClient client, String text) {
        client.next(packet -> "event".equals(packet.getString("type")) && "notice".equals(packet.getString("event"))
                && text.equals(packet.getJsonArray("args").getString(0)));
    }

    private static String quote(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
