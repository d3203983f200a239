package dev.switchboard.adapter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RedisServer;
import jakarta.json.JsonObject;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code emitLocally} reaches the targets on its own node only, without an offset, even with Redis frozen. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class LocalEmitTest {
    @Test
    void aLocalEmitStaysOnItsNodeAndNeedsNoRedis() throws Exception {
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = ClusterNode.start(ClusterNode.settings(redis.uri(), "local"));
             ClusterNode b = ClusterNode.start(ClusterNode.settings(redis.uri(), "local"));
             RawClient onA = a.server().raw(); RawClient onB = b.server().raw()) {
            onA.connectNamespace("/", null);
            onB.connectNamespace("/", null);

            a.switchboard().root().operator().emitLocally("mine", "from a");
            a.switchboard().root().emit("everyone", "from a");
            JsonObject local = next(onA, "mine");
            assertEquals("from a", local.getJsonArray("args").getString(0));
            assertEquals(false, local.containsKey("offset"), "a local event is volatile: " + local);
            assertEquals("everyone", next(onB, null).getString("event"), "node B saw nothing before the cluster's emit");

            redis.signal("STOP");
            try {
                a.switchboard().root().operator().emitLocally("mine", "while Redis is frozen");
                assertEquals("while Redis is frozen", next(onA, "mine").getJsonArray("args").getString(0));
            } finally {
                redis.signal("CONT");
            }
        }
    }

    /** The next event named {@code event}, or the next event of any name when {@code null}. */
    private static JsonObject next(RawClient client, String event) {
        return client.next(packet -> "event".equals(packet.getString("type"))
                && (event == null || event.equals(packet.getString("event", ""))));
    }
}
