package dev.switchboard.adapter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.testing.ApiClient;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RedisServer;
import jakarta.json.JsonObject;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The HTTP API of one node acts on the whole cluster, as the operators it calls do: an emit posted
 * to node A reaches a room's member on node B and nobody else, a query lists B's sockets, and a
 * join made through A is seen by the next emit.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ClusterHttpApiTest {
    private static final String KEY = "cluster-key";

    @Test
    void anApiCallOnOneNodeActsOnSocketsOfTheOther() {
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = ClusterNode.start(ClusterNode.settings(redis.uri(), "api"), HttpApiSettings.off().withKeys(List.of(KEY)));
             ClusterNode b = ClusterNode.start(ClusterNode.settings(redis.uri(), "api"));
             RawClient member = b.server().raw(); RawClient outsider = b.server().raw()) {
            member.connectNamespace("/", "{\"user\":\"ana\"}");
            outsider.connectNamespace("/", "{\"user\":\"pedro\"}");
            String memberId = b.switchboard().root().sockets().values().stream()
                    .filter(socket -> "ana".equals(socket.userId())).findFirst().orElseThrow().id();
            b.switchboard().root().sockets().get(memberId).join("lobby");
            ApiClient api = new ApiClient(URI.create("http://127.0.0.1:" + a.server().port()));

            Await.until("node A sees both sockets of node B", () -> ApiClient.json(api.get("/api/sockets", KEY))
                    .getJsonArray("sockets").size() == 2);
            HttpResponse<String> lobby = api.get("/api/sockets?room=lobby", KEY);
            assertEquals(200, lobby.statusCode(), lobby.body());
            assertEquals(memberId, ApiClient.json(lobby).getJsonArray("sockets").getJsonObject(0).getString("id"));

            api.emit(KEY, "{\"event\":\"news\",\"args\":[\"for the lobby\"],\"rooms\":[\"lobby\"]}");
            assertEquals("for the lobby", argumentOf(member, "news"));

            assertEquals(200, api.post("/api/sockets/join", KEY, "{\"user\":\"pedro\",\"join\":[\"lobby\"]}").statusCode());
            api.emit(KEY, "{\"event\":\"news\",\"args\":[\"second\"],\"rooms\":[\"lobby\"]}");
            assertEquals("second", argumentOf(outsider, "news"), "the join through node A is seen by the next emit");
            assertEquals("second", argumentOf(member, "news"));
            assertTrue(ApiClient.json(api.get("/api/rooms", KEY)).getJsonArray("rooms").toString().contains("\"lobby\""));
        }
    }

    private static String argumentOf(RawClient client, String event) {
        JsonObject packet = client.next(p -> "event".equals(p.getString("type")) && event.equals(p.getString("event", "")));
        return packet.getJsonArray("args").getString(0);
    }
}
