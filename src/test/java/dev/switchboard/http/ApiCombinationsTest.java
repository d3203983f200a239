package dev.switchboard.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static dev.switchboard.testing.ApiClient.assertRefused;

import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.testing.ApiClient;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonObject;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The HTTP API meeting the rest of the server: sessions waiting for their client to recover,
 * and what the API tells a backend about them.
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class ApiCombinationsTest {
    private static final String KEY = "key";
    private TestServer server;
    private ApiClient api;

    @BeforeEach
    void start() {
        server = TestServer.start(TestServer.options().recoveryWindow(Duration.ofMinutes(2)).build(),
                sb -> sb.root().use(socket -> {
                    Map<?, ?> auth = socket.handshake().auth(Map.class);
                    if (auth != null && auth.get("user") != null) {
                        socket.userId((String) auth.get("user"));
                    }
                }), HttpApiSettings.off().withKeys(List.of(KEY)).withMetrics(true));
        api = new ApiClient(URI.create("http://127.0.0.1:" + server.port()));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** A user's only socket dropped a moment ago; its session waits for the client. */
    private JsonObject droppedUser(String user) {
        RawClient tab = server.raw();
        JsonObject connected = tab.connectAs(user, null, null);
        tab.abort();
        Await.until(user + "'s session waiting",
                () -> server.switchboard().root().detachedSessions().containsKey(connected.getString("id")));
        return connected;
    }

    @Test
    void aUserDisconnectedThroughTheApiWhileAwayDoesNotRecover() {
        JsonObject first = droppedUser("mallory");

        assertEquals(200, api.post("/api/sockets/disconnect", KEY, "{\"user\":\"mallory\",\"close\":true}").statusCode());

        try (RawClient back = server.raw()) {
            JsonObject again = back.connectAs("mallory", first.getString("pid"), null);
            assertFalse(again.getBoolean("recovered"), "disconnected by the backend, yet recovered: " + again);
        }
    }

    /**
     * The Java client drops a frame it cannot read (more arguments than the protocol allows, or
     * nested deeper): an emit of such arguments would be answered ok and reach nobody.
     */
    @Test
    void argumentsNoClientCouldReadAreRefusedAndTheLimitsThemselvesArrive() throws Exception {
        List<Integer> argCounts = new CopyOnWriteArrayList<>();
        try (SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri())) {
            client.socket().on("news", event -> argCounts.add(event.args().size()));
            Await.until("connected", () -> client.socket().connected());

            assertRefused(400, "args", api.post("/api/emit", KEY, "{\"event\":\"news\",\"args\":" + numbers(257) + "}"));
            assertRefused(400, "args", api.post("/api/emit", KEY, "{\"event\":\"news\",\"args\":[" + nested(31) + "]}"));
            api.emit(KEY, "{\"event\":\"news\",\"args\":" + numbers(256) + "}");
            api.emit(KEY, "{\"event\":\"news\",\"args\":[" + nested(30) + "]}");

            Await.until("both emits received", () -> argCounts.size() == 2);
            assertEquals(List.of(256, 1), argCounts);
        }
    }

    private static String numbers(int count) {
        return java.util.stream.IntStream.range(0, count).boxed().toList().toString();
    }

    /** One argument of {@code depth} arrays, one inside the other. */
    private static String nested(int depth) {
        return "[".repeat(depth) + "]".repeat(depth);
    }
}
