package dev.switchboard.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.switchboard.testing.ApiClient;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonObject;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
}
