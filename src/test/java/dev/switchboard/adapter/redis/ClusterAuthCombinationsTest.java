package dev.switchboard.adapter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.auth.JwtAuth;
import dev.switchboard.auth.TokenVerifier;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.ClientProcess;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.Tokens;
import jakarta.json.JsonObject;
import java.net.URI;
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

    /**
     * Runs {@link #node} in its own JVM, for tests that kill it: prints {@code node <id> <websocket
     * uri>}, then serves until killed. Arguments: the Redis URI and the key prefix.
     */
    static final class KillableNode {
        public static void main(String[] args) throws InterruptedException {
            Node node = node(args[0], args[1]);
            System.out.println("node " + node.cluster().nodeId() + " " + node.server().webSocketUri());
            Thread.currentThread().join();
        }
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
    /**
     * A client answers its node's {@code refresh} with a fresh token; then its node is killed and it
     * recovers on another, whose recovery takes the token from the session's record, not from the
     * client (no middleware): the record must hold the fresh one.
     */
    @Test
    void aTokenRefreshedBeforeItsNodeWasKilledHoldsOnTheNodeWhereTheClientRecovers(TestInfo test) throws Exception {
        String prefix = test.getTestMethod().orElseThrow().getName();
        try (RedisServer redis = RedisServer.start();
             Node b = node(redis.uri(), prefix);
             ClientProcess a = ClientProcess.startMain(KillableNode.class, "-Xmx128m", redis.uri(), prefix)) {
            URI nodeA = URI.create(a.await("node ", Duration.ofSeconds(60)).split(" ")[2]);
            // Asked for a fresh one a second before it expires (refreshAhead), 3 s from now.
            Instant firstExpiry = Instant.now().plusSeconds(4);
            String first = tokens.hmac("ana", claims -> claims.expirationTime(Date.from(firstExpiry)));
            String fresh = tokens.hmac("ana", claims -> claims.expirationTime(Date.from(Instant.now().plusSeconds(60))));
            String id;
            String pid;
            String offset;
            try (RawClient ana = RawClient.connect(nodeA)) {
                ana.next("hello");
                ana.send("{\"type\":\"connect\",\"auth\":{\"token\":\"" + first + "\"}}");
                JsonObject answer = ana.next("connect");
                id = answer.getString("id");
                pid = answer.getString("pid");
                JsonObject refresh = ana.next(packet -> JwtAuth.REFRESH.equals(packet.getString("event", null)));
                ana.send("{\"type\":\"ack\",\"ack\":" + refresh.getInt("ack") + ",\"args\":[\"" + fresh + "\"]}");
                Await.until("the first token's expiry passed", () -> Instant.now().isAfter(firstExpiry.plusMillis(500)));
                b.server().switchboard().root().toUser("ana").emit("still-here", 1);
                JsonObject next = ana.next(packet -> !"ping".equals(packet.getString("type", null)));
                assertEquals("still-here", next.getString("event", null), "node A took the fresh token: " + next);
                offset = next.getString("offset");
                a.kill();
            }

            try (RawClient back = RawClient.connect(b.server().webSocketUri())) {
                back.next("hello");
                back.send("{\"type\":\"connect\",\"auth\":{\"token\":\"" + fresh + "\"},\"pid\":\"" + pid
                        + "\",\"offset\":\"" + offset + "\"}");
                JsonObject answer = back.next("connect");
                assertEquals(id, answer.getString("id"));
                assertTrue(answer.getBoolean("recovered"), "recovered on node B");
                b.server().switchboard().root().toUser("ana").emit("after", 2);
                JsonObject next = back.next(packet -> !"ping".equals(packet.getString("type", null)));
                assertEquals("after", next.getString("event", null), "not ended for the token she had replaced: " + next);
            }
        }
    }
}
