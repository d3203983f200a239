package dev.switchboard.adapter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.auth.JwtAuth;
import dev.switchboard.auth.TokenVerifier;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.Tokens;
import jakarta.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * Token authentication on a cluster: a client that drops from one node and recovers on another
 * keeps its token's limits there. Each test starts its own {@code redis-server}.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ClusterAuthCombinationsTest {
    private final Tokens tokens = new Tokens(Clock.systemUTC());

    /** A node whose root namespace takes tokens; recovery keeps the session's token (no middleware). */
    private static Node node(String redisUri, String prefix) {
        RedisCluster cluster = ClusterNode.settings(redisUri, prefix).logRetention(Duration.ofSeconds(30)).connect();
        TestServer server = TestServer.start(TestServer.options().adapter(cluster.adapters())
                .sessionStore(cluster.sessionStore()).recoveryWindow(Duration.ofSeconds(30))
                .recoveryRunsMiddleware(false).build(), sb -> JwtAuth.install(sb.root(), TokenVerifier.builder()
                        .hmacSecret(Tokens.SECRET).issuer(Tokens.ISSUER).audience(Tokens.AUDIENCE).build(),
                        Duration.ofSeconds(1)));
        return new Node(cluster, server);
    }

    private record Node(RedisCluster cluster, TestServer server) implements AutoCloseable {
        @Override
        public void close() {
            server.close();
            cluster.close();
        }
    }

    @Test
    void aSessionRecoveredOnAnotherNodeStillEndsWhenItsTokenExpires(TestInfo test) throws Exception {
        String prefix = test.getTestMethod().orElseThrow().getName();
        try (RedisServer redis = RedisServer.start();
             Node a = node(redis.uri(), prefix);
             Node b = node(redis.uri(), prefix)) {
            Instant expiry = Instant.now().plusSeconds(5);
            String token = tokens.hmac("ana", claims -> claims.expirationTime(Date.from(expiry)));
            String connect = "{\"type\":\"connect\",\"auth\":{\"token\":\"" + token + "\"}";
            String id;
            String pid;
            String offset;
            try (RawClient ana = RawClient.connect(a.server().webSocketUri())) {
                ana.next("hello");
                ana.send(connect + "}");
                JsonObject answer = ana.next("connect");
                id = answer.getString("id");
                pid = answer.getString("pid");
                a.server().switchboard().root().toUser("ana").emit("seen", 1);
                offset = ana.next("event").getString("offset");
                ana.abort();
            }
            Await.until("Ana's session waits on node A", () -> a.server().switchboard().root().detachedSessions().containsKey(id));

            try (RawClient back = RawClient.connect(b.server().webSocketUri())) {
                back.next("hello");
                back.send(connect + ",\"pid\":\"" + pid + "\",\"offset\":\"" + offset + "\"}");
                JsonObject answer = back.next("connect");
                assertEquals(id, answer.getString("id"));
                assertTrue(answer.getBoolean("recovered"), "recovered on node B");
                // The token expires 5 s after it was issued; the client gives no fresh one.
                JsonObject end = back.next(packet -> "disconnect".equals(packet.getString("type", null)));
                assertEquals("token expired", end.getString("reason"));
                assertTrue(!Instant.now().isBefore(expiry.minusSeconds(1)), "not before the token expired");
            }
        }
    }
}
