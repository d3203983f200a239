package dev.switchboard.adapter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.server.Namespace;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.ClientProcess;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.NodeClient;
import dev.switchboard.testing.RedisServer;
import jakarta.json.JsonObject;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The official Node {@code socket.io-client} on a cluster: cut off from its node, it comes back
 * through the balancer to the other node and recovers there, with every event it missed from
 * either node once and in order, over WebSocket alone and over long-polling upgraded to WebSocket,
 * and after its node was killed.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class SocketIoClusterTest {

    private static RedisCluster.Builder settings(String uri, TestInfo test) {
        return ClusterNode.settings(uri, test.getTestMethod().orElseThrow().getName()).logRetention(Duration.ofSeconds(30));
    }

    /** Opens Ana's socket.io-client through {@code balancer}, joins the lobby; returns her socket id. */
    private static String openAna(NodeClient client, CuttableProxy balancer, String transports) throws Exception {
        client.send("{'op':'open','name':'ana','url':'http://127.0.0.1:" + balancer.port() + "/',"
                + "'options':{" + transports + "'auth':{'user':'ana'}}}");
        String id = client.next("ana", "connect").getString("id");
        client.send("{'op':'emitWithAck','name':'ana','id':1,'event':'join','args':['lobby'],'timeout':5000}");
        assertEquals("[\"lobby\"]", client.next("ana", "ack").getJsonArray("args").toString());
        if (transports.isEmpty()) {
            // The default client starts polling and upgrades. Cut before the upgrade, the drop of
            // its waiting GET would be seen only when the heartbeat ends (45 s), not at once.
            client.next("ana", "upgrade");
        }
        return id;
    }

    /** The first arguments of Ana's next {@code count} {@code seq} events. */
    private static List<String> seq(NodeClient client, int count) throws Exception {
        List<String> seen = new ArrayList<>();
        while (seen.size() < count) {
            seen.add(NodeClient.firstArg(client.nextEvent("ana", "seq")));
        }
        return seen;
    }

    @ParameterizedTest
    @ValueSource(strings = {"'transports':['websocket'],", ""})
    void aSocketIoClientRecoversOnTheOtherNode(String transports, TestInfo test) throws Exception {
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = ClusterNode.start(settings(redis.uri(), test));
             ClusterNode b = ClusterNode.start(settings(redis.uri(), test));
             CuttableProxy balancer = new CuttableProxy(a.server().port());
             NodeClient client = NodeClient.start()) {
            String id = openAna(client, balancer, transports);
            Namespace onA = a.switchboard().root();
            Namespace onB = b.switchboard().root();
            onB.to("lobby").emit("seq", 1);
            assertEquals(List.of("1"), seq(client, 1));

            balancer.refuse(true);
            balancer.retarget(b.server().port());
            balancer.cut();
            Await.until("Ana's session waits on node A", () -> onA.detachedSessions().containsKey(id));
            onB.to("lobby").emit("seq", 2);
            onA.toUser("ana").emit("seq", 3);
            onB.to(id).emit("seq", 4);
            onA.to("elsewhere").emit("seq", -1);
            balancer.refuse(false);

            JsonObject back = client.next("ana", "connect");
            assertTrue(back.getBoolean("recovered"), "socket.recovered");
            assertEquals(id, back.getString("id"));
            onA.emit("seq", 5);
            assertEquals(List.of("2", "3", "4", "5"), seq(client, 4));
            assertEquals(Set.of(id, "user:ana", "lobby"),
                    Await.value("Ana's socket on node B", () -> onB.sockets().get(id)).rooms());
        }
    }

    @Test
    void aSocketIoClientRecoversOnTheOtherNodeAfterItsNodeWasKilled(TestInfo test) throws Exception {
        String prefix = test.getTestMethod().orElseThrow().getName();
        try (RedisServer redis = RedisServer.start();
             ClusterNode b = ClusterNode.start(settings(redis.uri(), test));
             ClientProcess a = ClientProcess.startMain(ClusterNode.class, "-Xmx128m", redis.uri(), prefix, "PT30S")) {
            URI nodeA = URI.create(a.await("node ", Duration.ofSeconds(60)).split(" ")[2]);
            try (CuttableProxy balancer = new CuttableProxy(nodeA.getPort());
                 NodeClient client = NodeClient.start()) {
                String id = openAna(client, balancer, "'transports':['websocket'],");
                Namespace onB = b.switchboard().root();
                onB.to("lobby").emit("seq", 1);
                assertEquals(List.of("1"), seq(client, 1));

                balancer.refuse(true);
                balancer.retarget(b.server().port());
                a.kill();
                onB.to("lobby").emit("seq", 2);
                onB.toUser("ana").emit("seq", 3);
                balancer.refuse(false);

                JsonObject back = client.next("ana", "connect");
                assertTrue(back.getBoolean("recovered"), "socket.recovered");
                assertEquals(id, back.getString("id"));
                onB.to("lobby").emit("seq", 4);
                assertEquals(List.of("2", "3", "4"), seq(client, 3));
            }
        }
    }
}
