package dev.switchboard.adapter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.server.Namespace;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.ClientProcess;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.NodeClient;
import dev.switchboard.testing.RedisServer;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.io.StringReader;
import java.net.URI;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The official {@code socket.io-client} on a cluster, in combinations: more than one trip between
 * nodes, long-polling, binary events and acks. Unlike a native client, a socket.io-client keeps
 * its private id across recoveries, so each node and the shared store see the same pid again.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class SocketIoClusterCombinationsTest {
    private static final String FENCE = "fence";

    /** Two nodes on a Redis of their own behind a balancer that first sends to node A. */
    private record Cluster(RedisServer redis, ClusterNode a, ClusterNode b, CuttableProxy balancer, NodeClient client)
            implements AutoCloseable {
        static Cluster start(TestInfo test) throws Exception {
            return start(test, ClusterNode.RECOVERY_WINDOW);
        }

        static Cluster start(TestInfo test, Duration window) throws Exception {
            RedisServer redis = RedisServer.start();
            String prefix = test.getTestMethod().orElseThrow().getName();
            ClusterNode a = ClusterNode.start(ClusterNode.settings(redis.uri(), prefix).logRetention(Duration.ofSeconds(30)),
                    window);
            ClusterNode b = ClusterNode.start(ClusterNode.settings(redis.uri(), prefix).logRetention(Duration.ofSeconds(30)),
                    window);
            return new Cluster(redis, a, b, new CuttableProxy(a.server().port()), NodeClient.start());
        }

        Namespace onA() {
            return a.switchboard().root();
        }

        Namespace onB() {
            return b.switchboard().root();
        }

        /** Cuts Ana's connection; she comes back through the balancer to {@code node} once her session waits on {@code from}. */
        void moveAna(ClusterNode from, ClusterNode to, String id) {
            balancer.refuse(true);
            balancer.retarget(to.server().port());
            balancer.cut();
            Await.until("Ana's session waits", () -> from.switchboard().root().detachedSessions().containsKey(id));
        }

        /**
         * Cuts Ana's connections and sends her next ones to {@code to}, without waiting for her
         * first node to notice: over long-polling it notices only when no request came for the
         * heartbeat's timeout, so it still holds her socket when she recovers elsewhere.
         */
        void cutAnaTowards(ClusterNode to) {
            balancer.refuse(true);
            balancer.retarget(to.server().port());
            balancer.cut();
        }

        @Override
        public void close() throws Exception {
            client.close();
            balancer.close();
            b.close();
            a.close();
            redis.close();
        }
    }

    /** Opens Ana's socket.io-client through the balancer, joins the lobby; returns her socket id. */
    private static String openAna(Cluster cluster, String transports) throws Exception {
        return openAna(cluster.client(), cluster.balancer(), cluster.onB(), transports);
    }

    private static String openAna(NodeClient client, CuttableProxy balancer, Namespace sender, String transports)
            throws Exception {
        client.send("{'op':'open','name':'ana','url':'http://127.0.0.1:" + balancer.port() + "/',"
                + "'options':{" + transports + "'auth':{'user':'ana'}}}");
        String id = client.next("ana", "connect").getString("id");
        client.send("{'op':'emitWithAck','name':'ana','id':1,'event':'join','args':['lobby'],'timeout':5000}");
        assertEquals("[\"lobby\"]", client.next("ana", "ack").getJsonArray("args").toString());
        // A socket.io-client asks to recover only once it has an offset: it saw an event.
        sender.to("lobby").emit("seen", 0);
        assertEquals("0", NodeClient.firstArg(client.nextEvent("ana", "seen")));
        return id;
    }

    /** Ana's events up to the fence, as {@code "name:firstArg"}. */
    private static List<String> untilFence(NodeClient client) throws Exception {
        List<String> events = new ArrayList<>();
        for (JsonObject event = client.next("ana", "event"); !FENCE.equals(event.getString("event"));
             event = client.next("ana", "event")) {
            events.add(event.getString("event") + ":" + NodeClient.firstArg(event));
        }
        return events;
    }

    /** Ana back after a cut: asserts she recovered under her id. */
    private static void recovered(Cluster cluster, String id) throws Exception {
        recovered(cluster.client(), cluster.balancer(), id);
    }

    private static void recovered(NodeClient client, CuttableProxy balancer, String id) throws Exception {
        balancer.refuse(false);
        JsonObject back = client.next("ana", "connect");
        assertTrue(back.getBoolean("recovered"), "socket.recovered: " + back);
        assertEquals(id, back.getString("id"));
    }

    /**
     * Ana, on node A, drops and recovers there twice: each time with what she missed. The claim of
     * her first record must not stop node A from saving the next under the pid she keeps.
     */
    @Test
    void aSocketIoClientRecoversTwiceOnItsNode(TestInfo test) throws Exception {
        try (Cluster cluster = Cluster.start(test)) {
            String id = openAna(cluster, "'transports':['websocket'],");
            cluster.moveAna(cluster.a(), cluster.a(), id);
            cluster.onB().to("lobby").emit("first-drop", 1);
            recovered(cluster, id);

            cluster.moveAna(cluster.a(), cluster.a(), id);
            cluster.onB().to("lobby").emit("second-drop", 2);
            recovered(cluster, id);
            cluster.onB().to("lobby").emit(FENCE, 0);
            assertEquals(List.of("first-drop:1", "second-drop:2"), untilFence(cluster.client()));
        }
    }

    /**
     * Ana recovers on node B, drops again and comes back to node B: she recovers again, with what
     * she missed. The pid she keeps is the one node B claimed her first record under.
     */
    @Test
    void aSocketIoClientRecoversTwiceOnTheOtherNode(TestInfo test) throws Exception {
        try (Cluster cluster = Cluster.start(test)) {
            String id = openAna(cluster, "'transports':['websocket'],");
            cluster.moveAna(cluster.a(), cluster.b(), id);
            cluster.onB().to("lobby").emit("first-trip", 1);
            recovered(cluster, id);

            cluster.moveAna(cluster.b(), cluster.b(), id);

            cluster.onA().to("lobby").emit("second-trip", 2);
            recovered(cluster, id);
            cluster.onA().to("lobby").emit(FENCE, 0);
            assertEquals(List.of("first-trip:1", "second-trip:2"), untilFence(cluster.client()));
        }
    }

    /**
     * Ana drops from node A, recovers on node B, leaves the lobby there, drops again and comes back
     * to node A: she recovers with the rooms she had on B and gets what she missed, not what went
     * to the lobby. Node A still holds her first session, under the same pid.
     */
    @Test
    void aSocketIoClientBackOnItsFirstNodeIsInTheRoomsItHadOnTheOther(TestInfo test) throws Exception {
        try (Cluster cluster = Cluster.start(test)) {
            String id = openAna(cluster, "'transports':['websocket'],");
            cluster.moveAna(cluster.a(), cluster.b(), id);
            recovered(cluster, id);
            Await.value("Ana on node B", () -> cluster.onB().sockets().get(id)).leave("lobby");
            cluster.onB().toUser("ana").emit("on-b", 1);
            assertEquals("1", NodeClient.firstArg(cluster.client().nextEvent("ana", "on-b")));

            cluster.moveAna(cluster.b(), cluster.a(), id);
            cluster.onB().to("lobby").emit("not-for-ana", 2);
            cluster.onB().toUser("ana").emit("missed", 3);
            recovered(cluster, id);
            cluster.onB().to("lobby").emit("not-for-ana", 4);
            cluster.onB().toUser("ana").emit(FENCE, 0);
            assertEquals(List.of("missed:3"), untilFence(cluster.client()));
            assertEquals(Set.of(id, "user:ana"),
                    Await.value("Ana's socket on node A", () -> cluster.onA().sockets().get(id)).rooms());
        }
    }

    /**
     * Ana recovers on node B. Her first session's window then ends on node A, which still held it
     * (its record was claimed): the application hears of no expiry, since Ana is connected, and
     * her record stays for another node to recover her from. Her pid is the same on both nodes.
     */
    @Test
    void theEndOfAClaimedSessionOnItsFirstNodeLeavesTheRecoveredOneAlone(TestInfo test) throws Exception {
        try (Cluster cluster = Cluster.start(test, Duration.ofSeconds(2))) {
            List<String> expired = new CopyOnWriteArrayList<>();
            cluster.onA().onSessionExpired(session -> expired.add("A:" + session.userId()));
            cluster.onB().onSessionExpired(session -> expired.add("B:" + session.userId()));
            String id = openAna(cluster, "'transports':['websocket'],");
            cluster.moveAna(cluster.a(), cluster.b(), id);
            recovered(cluster, id);
            Await.until("node A's copy of the session ended", () -> cluster.onA().detachedSessions().isEmpty());

            cluster.onB().toUser("ana").emit(FENCE, 0);
            assertEquals(List.of(), untilFence(cluster.client()));
            assertEquals(List.of(), expired);
            assertEquals(1, cluster.b().switchboard().options().sessionStore().size(), "Ana's record");
        }
    }

    /**
     * Ana's connection to node A dies unseen and she recovers on node B, which tells the nodes
     * that it took the record node A saved for her. Node A hears it late: she came back to it in
     * between, and her new socket has her socket id and, from socket.io-client, her pid. The word
     * is about her old connection's record, not her new socket's: she stays connected. Node B's
     * word is sent again by hand, as late as that.
     */
    @Test
    void aLateWordThatHerOldRecordWasTakenOverLeavesTheSocketSheCameBackWithAlone(TestInfo test) throws Exception {
        String prefix = test.getTestMethod().orElseThrow().getName();
        try (Cluster cluster = Cluster.start(test);
             RedisServer.Direct redis = cluster.redis().connect()) {
            String id = openAna(cluster, "'transports':['websocket'],");
            String key = Await.value("Ana's record in the lobby", () -> redis.sync().keys(prefix + ":session:*").stream()
                    .filter(found -> redis.sync().get(found).contains("lobby")).findFirst().orElse(null));
            String pid = key.substring((prefix + ":session:").length());
            Instant savedOnA = Instant.parse(Json.createReader(new StringReader(redis.sync().get(key))).readObject()
                    .getString("expiresAt"));
            cluster.moveAna(cluster.a(), cluster.b(), id);
            recovered(cluster, id);
            cluster.moveAna(cluster.b(), cluster.a(), id);
            recovered(cluster, id);
            cluster.client().forgetEarlier("ana", "disconnect");

            cluster.b().cluster().adapter("/").sessionTakenOver(id, pid, savedOnA);
            // Answered by node A after it read the word, which came first on the same channel.
            cluster.onB().fetchSockets().get(20, TimeUnit.SECONDS);
            cluster.onB().to("lobby").emit(FENCE, 0);
            JsonObject next = cluster.client().next(report -> "ana".equals(report.getString("name"))
                    && ("disconnect".equals(report.getString("type")) || "event".equals(report.getString("type"))));
            assertEquals(FENCE, next.getString("event", next.toString()), "Ana's next report");
            assertTrue(cluster.onA().sockets().get(id).connected(), "Ana's socket on node A");
        }
    }

    /**
     * The last event Ana saw on node A was a volatile one from node B whose last argument is a
     * string: socket.io-client holds that string for its offset. She drops from node A, which
     * lives on, and comes back to node B: she recovers, with what she missed, as she would on
     * node A.
     */
    @Test
    void aSocketIoClientWhoseLastEventWasVolatileRecoversOnTheOtherNode(TestInfo test) throws Exception {
        try (Cluster cluster = Cluster.start(test)) {
            String id = anaHoldingAVolatileValue(cluster);
            cluster.moveAna(cluster.a(), cluster.b(), id);
            recoversWithTheEventSheMissed(cluster, cluster.onA(), id);
        }
    }

    /**
     * The same, then on: Ana, back on node B with nothing missed, still holds the volatile
     * event's string, and drops again, back to node A. Node B took her in knowing where that
     * value stands, and its record at the drop says so: she recovers on node A too.
     */
    @Test
    void aSocketIoClientHoldingAVolatileValueRecoversAcrossTwoNodeSwitches(TestInfo test) throws Exception {
        try (Cluster cluster = Cluster.start(test)) {
            String id = anaHoldingAVolatileValue(cluster);
            cluster.moveAna(cluster.a(), cluster.b(), id);
            recovered(cluster, id);
            cluster.moveAna(cluster.b(), cluster.a(), id);
            recoversWithTheEventSheMissed(cluster, cluster.onB(), id);
        }
    }

    /** Opens Ana over WebSocket and sends her a volatile event from node B, whose string she then holds for her offset; her id. */
    private static String anaHoldingAVolatileValue(Cluster cluster) throws Exception {
        String id = openAna(cluster, "'transports':['websocket'],");
        cluster.onB().to("lobby").asVolatile().emit("typing", "bo");
        assertEquals("bo", NodeClient.firstArg(cluster.client().nextEvent("ana", "typing")));
        return id;
    }

    /** {@code sender} sends the lobby an event while Ana is away; she recovers socket {@code id} with it, and only it. */
    private static void recoversWithTheEventSheMissed(Cluster cluster, Namespace sender, String id) throws Exception {
        sender.to("lobby").emit("missed", 1);
        recovered(cluster, id);
        cluster.onA().to("lobby").emit(FENCE, 0);
        assertEquals(List.of("missed:1"), untilFence(cluster.client()));
    }

    /**
     * Node B asks the lobby a question with acks while Ana is connected to node A; she answers.
     * socket.io-client sees no offset on an event that asks for an ack, so she still holds the
     * offset before it when she drops from node A and comes back to node B: she recovers with
     * what she missed, a question asked while she was away among it, and is not asked the first
     * question again, as on node A.
     */
    @Test
    void aBroadcastWithAckASocketIoClientAnsweredIsNotReplayedOnTheOtherNode(TestInfo test) throws Exception {
        try (Cluster cluster = Cluster.start(test)) {
            String id = openAna(cluster, "'transports':['websocket'],");
            var answers = cluster.onB().to("lobby").timeout(Duration.ofSeconds(10)).emitWithAck("question", 1);
            assertEquals("1", NodeClient.firstArg(cluster.client().nextEvent("ana", "question")));
            assertEquals(1, answers.get(20, TimeUnit.SECONDS).size(), "Ana's answer");

            recoversWhatTheLobbyWasAskedAndSentWhileSheMoved(cluster, id);
        }
    }

    /**
     * Node A asks Ana alone a question with acks (it stays on node A: not in the cluster's log),
     * and she answers; she drops and comes back to node B while a question goes to the lobby:
     * she recovers with it. Before, node A's record named its own question as the newest she was
     * asked, which node B cannot place, and she started afresh.
     */
    @Test
    void aQuestionToASocketIoClientAloneDoesNotSpoilItsRecoveryOnTheOtherNode(TestInfo test) throws Exception {
        try (Cluster cluster = Cluster.start(test)) {
            String id = openAna(cluster, "'transports':['websocket'],");
            var answer = cluster.a().switchboard().root().sockets().get(id).timeout(Duration.ofSeconds(10))
                    .emitWithAck("alone", 1);
            assertEquals("1", NodeClient.firstArg(cluster.client().nextEvent("ana", "alone")));
            answer.get(20, TimeUnit.SECONDS);

            recoversWhatTheLobbyWasAskedAndSentWhileSheMoved(cluster, id);
        }
    }

    /**
     * Ana, who answered a question on node A, moves to node B while the lobby is asked another and
     * sent an event: she recovers with those two, and only them.
     */
    private static void recoversWhatTheLobbyWasAskedAndSentWhileSheMoved(Cluster cluster, String id) throws Exception {
        cluster.moveAna(cluster.a(), cluster.b(), id);
        cluster.onB().to("lobby").timeout(Duration.ofSeconds(1)).emitWithAck("asked-away", 2);
        cluster.onA().to("lobby").emit("missed", 3);
        recovered(cluster, id);
        cluster.onA().to("lobby").emit(FENCE, 0);
        assertEquals(List.of("asked-away:2", "missed:3"), untilFence(cluster.client()));
    }

    /**
     * Binary events Ana missed while away from node A, sent from either node, come to her on node
     * B from the cluster's log, intact and as binary, over WebSocket and over long-polling alone;
     * the events that follow too.
     */
    @ParameterizedTest
    @ValueSource(strings = {"'transports':['websocket'],", "'transports':['polling'],"})
    void binaryEventsMissedOnOneNodeComeIntactFromTheOther(String transports, TestInfo test) throws Exception {
        byte[] bytes = {0, 1, 2, (byte) 0xfe, (byte) 0xff, 'h', 'i'};
        String base64 = Base64.getEncoder().encodeToString(bytes);
        try (Cluster cluster = Cluster.start(test)) {
            String id = openAna(cluster, transports);
            cluster.cutAnaTowards(cluster.b());
            cluster.onA().to("lobby").emit("blob", "from A", bytes);
            cluster.onB().toUser("ana").emit("blob", "from B", Map.of("nested", bytes));
            recovered(cluster, id);
            cluster.onA().to("lobby").emit("blob", "after", bytes);

            JsonArray fromA = cluster.client().nextEvent("ana", "blob").getJsonArray("args");
            assertEquals("from A", fromA.getString(0));
            assertEquals(base64, fromA.getJsonObject(1).getString("$binary"));
            assertEquals("Buffer", fromA.getJsonObject(1).getString("$type"));
            JsonArray fromB = cluster.client().nextEvent("ana", "blob").getJsonArray("args");
            assertEquals("from B", fromB.getString(0));
            assertEquals(base64, fromB.getJsonObject(1).getJsonObject("nested").getString("$binary"));
            JsonArray after = cluster.client().nextEvent("ana", "blob").getJsonArray("args");
            assertEquals("after", after.getString(0));
            assertEquals(base64, after.getJsonObject(1).getString("$binary"));
        }
    }

    /**
     * Ana's node A is killed and she recovers on node B, under the pid she keeps. Node B then
     * adopts node A's connected records, hers among them, as orphans: their windows end with Ana
     * connected on node B all along, so the application hears of no expiry, and her record stays
     * for another node to recover her from. Watched until well after the orphans' windows ended.
     */
    @Test
    void aSocketIoClientRecoveredFromAKilledNodeIsNotToldExpiredAsItsOrphan(TestInfo test) throws Exception {
        String prefix = test.getTestMethod().orElseThrow().getName();
        Duration window = Duration.ofSeconds(3);
        try (RedisServer redis = RedisServer.start();
             ClusterNode b = ClusterNode.start(ClusterNode.settings(redis.uri(), prefix).logRetention(Duration.ofSeconds(30)),
                     window);
             ClientProcess a = ClientProcess.startMain(ClusterNode.class, "-Xmx128m", redis.uri(), prefix, "PT30S", "PT3S")) {
            List<String> expired = new CopyOnWriteArrayList<>();
            b.switchboard().root().onSessionExpired(session -> expired.add(session.userId()));
            URI nodeA = URI.create(a.await("node ", Duration.ofSeconds(60)).split(" ")[2]);
            try (CuttableProxy balancer = new CuttableProxy(nodeA.getPort());
                 NodeClient client = NodeClient.start()) {
                String id = openAna(client, balancer, b.switchboard().root(), "'transports':['websocket'],");
                balancer.refuse(true);
                balancer.retarget(b.server().port());
                a.kill();
                recovered(client, balancer, id);

                long until = System.nanoTime() + window.plus(Duration.ofSeconds(8)).toNanos();
                Await.until("an expiry, or the orphans' windows long over",
                        () -> !expired.isEmpty() || System.nanoTime() > until);
                assertEquals(List.of(), expired);
                assertEquals(1, b.switchboard().options().sessionStore().size(), "Ana's record");
            }
        }
    }
}
