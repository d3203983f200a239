package dev.switchboard.adapter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.api.PresentUser;
import dev.switchboard.client.RoomPresence;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.ClientProcess;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.Inbox;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.TestServer;
import dev.switchboard.server.Namespace;
import jakarta.json.JsonObject;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * Presence across the nodes of a cluster, through real sockets on a real {@code redis-server}: a
 * user's tabs on two nodes count once, a drop on one node and a recovery on the other read as away
 * then back, a drop past the window as one leave, and a killed node's users turn away, then leave,
 * unless they still have a socket on a live node. Every member hears each change once, whichever
 * node made it; a fence emitted after it, through the same log, marks the end of what they heard.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ClusterPresenceTest {
    private static final String ROOM = "#lobby";

    private static RedisCluster.Builder settings(String uri, TestInfo test) {
        return ClusterNode.settings(uri, test.getTestMethod().orElseThrow().getName()).logRetention(Duration.ofSeconds(30));
    }

    /** A tab of {@code user} in the room, once it sees itself there. */
    private static Inbox tab(URI uri, String user) throws Exception {
        Inbox tab = Inbox.open(uri, "/", user);
        assertEquals(ROOM, tab.socket().emitWithAck("join", ROOM).get(10, TimeUnit.SECONDS).get(0, String.class));
        Await.until(user + " in the room", () -> tab.socket().presence(ROOM).member(user) != null);
        return tab;
    }

    private static void fence(ClusterNode node) {
        node.switchboard().root().emit(Inbox.FENCE);
    }

    private static List<PresentUser> presence(ClusterNode node) throws Exception {
        return node.switchboard().root().presence(ROOM).get(10, TimeUnit.SECONDS);
    }

    @Test
    void tabsOnTwoNodesCountOnceAndADropOnOneRecoversOnTheOther(TestInfo test) throws Exception {
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = ClusterNode.start(settings(redis.uri(), test));
             ClusterNode b = ClusterNode.start(settings(redis.uri(), test));
             CuttableProxy toA = new CuttableProxy(a.server().port());
             Inbox anaOnA = tab(toA.webSocketUri(), "Ana");
             Inbox anaOnB = tab(b.server().webSocketUri(), "Ana");
             Inbox pedro = tab(b.server().webSocketUri(), "Pedro")) {
            fence(a);
            assertEquals(List.of("list:Ana"), anaOnA.presenceUntilFence().subList(0, 1));
            assertEquals(List.of("list:Ana", "join:Pedro"), anaOnB.presenceUntilFence(), "Ana's second tab is no news");
            assertEquals(List.of("list:Ana,Pedro"), pedro.presenceUntilFence(), "a late joiner gets one list");
            List<PresentUser> both = List.of(new PresentUser("Ana", Map.of(), false), new PresentUser("Pedro", Map.of(), false));
            assertEquals(both, presence(a), "each user once, the same on both nodes");
            assertEquals(both, presence(b));

            try (Inbox una = tab(a.server().webSocketUri(), "Una")) {
                fence(b);
                assertEquals(List.of("list:Ana,Pedro,Una"), una.presenceUntilFence());
                assertEquals(List.of("join:Una"), pedro.presenceUntilFence(), "then diffs, from the other node");
            }
            Await.until("Una gone", () -> pedro.socket().presence(ROOM).member("Una") == null);

            anaOnB.close();
            RoomPresence pedroSees = pedro.socket().presence(ROOM);
            toA.refuse(true);
            toA.retarget(b.server().port());
            toA.cut();
            Await.until("Ana away", () -> pedroSees.member("Ana").away());
            toA.refuse(false);
            Await.until("Ana back on node B", () -> anaOnA.socket().connected()
                    && b.switchboard().root().sockets().containsKey(anaOnA.socket().id()));
            Await.until("Ana back", () -> !pedroSees.member("Ana").away());
            fence(a);
            assertEquals(List.of("leave:Una", "away:Ana", "back:Ana"), pedro.presenceUntilFence(),
                    "closing one of two tabs on two nodes is no news; a drop on A and a recovery on B are");
            assertEquals(List.of("Ana", "Pedro"), pedro.members(ROOM));
            assertEquals(both, presence(a));
        }
    }

    @Test
    void aDropPastTheWindowIsOneLeave(TestInfo test) throws Exception {
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = ClusterNode.start(settings(redis.uri(), test), Duration.ofSeconds(2));
             ClusterNode b = ClusterNode.start(settings(redis.uri(), test), Duration.ofSeconds(2));
             CuttableProxy toA = new CuttableProxy(a.server().port());
             Inbox pedro = tab(b.server().webSocketUri(), "Pedro");
             Inbox ana = tab(toA.webSocketUri(), "Ana")) {
            RoomPresence pedroSees = pedro.socket().presence(ROOM);
            Await.until("Pedro sees Ana", () -> pedroSees.member("Ana") != null);
            toA.refuse(true);
            toA.cut();
            Await.until("Ana gone", () -> pedroSees.member("Ana") == null);
            fence(b);
            assertEquals(List.of("list:Pedro", "join:Ana", "away:Ana", "leave:Ana"), pedro.presenceUntilFence());
            assertEquals(List.of(new PresentUser("Pedro", Map.of(), false)), presence(a));
        }
    }

    /**
     * Ana drops from node A and comes back to node B with an offset B cannot replay from (the
     * offset of an ack request to her socket alone, which is node A's own): she starts afresh,
     * node B tells the application her session ended, and node A lets its copy go without a word.
     * The room hears her leave then, once, not "away" for good: the waiting entry was node A's,
     * which no longer writes it.
     */
    @Test
    void aSessionWhoseRecoveryIsRefusedOnAnotherNodeLeavesThePresence(TestInfo test) throws Exception {
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = ClusterNode.start(settings(redis.uri(), test));
             ClusterNode b = ClusterNode.start(settings(redis.uri(), test));
             Inbox pedro = tab(b.server().webSocketUri(), "Pedro")) {
            List<String> expiredOnB = new CopyOnWriteArrayList<>();
            b.switchboard().root().onSessionExpired(session -> expiredOnB.add(session.id()));
            RoomPresence pedroSees = pedro.socket().presence(ROOM);
            String id;
            String pid;
            String offset;
            try (RawClient ana = RawClient.connect(a.server().webSocketUri())) {
                JsonObject connected = ana.connectAs("Ana", null, null);
                id = connected.getString("id");
                pid = connected.getString("pid");
                ana.send("{\"type\":\"event\",\"event\":\"join\",\"args\":[\"" + ROOM + "\"],\"ack\":1}");
                ana.next(packet -> "ack".equals(packet.getString("type")) && packet.getInt("ack") == 1);
                Await.until("Pedro sees Ana", () -> pedroSees.member("Ana") != null);
                a.switchboard().root().sockets().get(id).timeout(Duration.ofMinutes(1)).emitWithAck("question");
                offset = ana.next(packet -> "question".equals(packet.getString("event", null))).getString("offset");
                ana.abort();
            }
            Await.until("Ana away", () -> pedroSees.member("Ana") != null && pedroSees.member("Ana").away());
            try (RawClient back = RawClient.connect(b.server().webSocketUri())) {
                JsonObject answer = back.connectAs("Ana", pid, offset);
                assertFalse(answer.getBoolean("recovered"), answer.toString());
                back.send("{\"type\":\"disconnect\"}");
            }
            Await.until("node B told the application that Ana's session ended", () -> expiredOnB.contains(id));
            Await.until("Ana gone", () -> pedroSees.member("Ana") == null);
            fence(b);
            assertEquals(List.of("list:Pedro", "join:Ana", "away:Ana", "leave:Ana"), pedro.presenceUntilFence());
            assertEquals(List.of(new PresentUser("Pedro", Map.of(), false)), presence(a));
        }
    }

    @Test
    void aKilledNodesUsersTurnAwayThenLeaveUnlessTheyHaveASocketElsewhere(TestInfo test) throws Exception {
        String prefix = test.getTestMethod().orElseThrow().getName();
        try (RedisServer redis = RedisServer.start();
             ClusterNode b = ClusterNode.start(settings(redis.uri(), test), Duration.ofSeconds(3));
             ClientProcess a = ClientProcess.startMain(ClusterNode.class, "-Xmx128m", redis.uri(), prefix, "PT30S", "PT3S")) {
            URI nodeA = URI.create(a.await("node ", Duration.ofSeconds(60)).split(" ")[2]);
            try (Inbox pedro = tab(b.server().webSocketUri(), "Pedro");
                 Inbox ana = tab(nodeA, "Ana");
                 Inbox boOnA = tab(nodeA, "Bo");
                 Inbox boOnB = tab(b.server().webSocketUri(), "Bo")) {
                RoomPresence pedroSees = pedro.socket().presence(ROOM);
                Await.until("everyone there", () -> pedro.members(ROOM).equals(List.of("Ana", "Bo", "Pedro")));
                fence(b);
                assertEquals(List.of("list:Pedro", "join:Ana", "join:Bo"), pedro.presenceUntilFence());

                a.kill();
                // Away, then gone: the order is checked below, as both may come between two looks.
                Await.until("Ana gone", () -> pedroSees.member("Ana") == null);
                fence(b);
                assertEquals(List.of("away:Ana", "leave:Ana"), pedro.presenceUntilFence(),
                        "Bo, with a tab on a live node, never turned away");
                assertEquals(List.of(new PresentUser("Bo", Map.of(), false), new PresentUser("Pedro", Map.of(), false)),
                        presence(b));
            }
        }
    }

    /**
     * While Redis is frozen, each node's heartbeats wait in Redis' input, the last one still awaited
     * by its node. Thawed past the node timeout, Redis runs one node's queue first: a beat of its
     * own just before must not make that node the steady one, count the other dead, and turn that
     * node's connected users away.
     */
    @Test
    void aRedisFreezeLongerThanTheNodeTimeoutTurnsNobodyAway(TestInfo test) throws Exception {
        // Beats that wait long for Redis: two of each node's are queued in Redis by the thaw, the
        // second still awaited (production's defaults, 5 s each, do the same for freezes of 5 to 10 s).
        Duration publishTimeout = Duration.ofSeconds(3);
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = ClusterNode.start(settings(redis.uri(), test).publishTimeout(publishTimeout));
             ClusterNode b = ClusterNode.start(settings(redis.uri(), test).publishTimeout(publishTimeout));
             Inbox ana = tab(a.server().webSocketUri(), "Ana");
             Inbox bo = tab(b.server().webSocketUri(), "Bo")) {
            Await.until("each sees the other", () -> ana.members(ROOM).equals(List.of("Ana", "Bo"))
                    && bo.members(ROOM).equals(List.of("Ana", "Bo")));
            fence(a);
            ana.presenceUntilFence();
            bo.presenceUntilFence();

            long stopped = System.nanoTime();
            redis.signal("STOP");
            Await.until("both nodes lost Redis", () -> !a.cluster().reachable() && !b.cluster().reachable());
            // Past the node timeout (4 s), before the second beat of the freeze times out (after 6 s).
            Thread.sleep(Math.max(0, 5000 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped)));
            redis.signal("CONT");
            Await.until("both nodes reach Redis again", () -> a.cluster().reachable() && b.cluster().reachable()
                    && a.cluster().liveNodes().size() == 2 && b.cluster().liveNodes().size() == 2);

            // A change on each node, which would carry whatever that node believes of the other's users.
            try (Inbox cy = tab(a.server().webSocketUri(), "Cy")) {
                Await.until("Bo sees Cy", () -> bo.socket().presence(ROOM).member("Cy") != null);
                try (Inbox di = tab(b.server().webSocketUri(), "Di")) {
                    Await.until("Ana sees Di", () -> ana.socket().presence(ROOM).member("Di") != null);
                    fence(a);
                    assertEquals(List.of("join:Cy", "join:Di"), ana.presenceUntilFence());
                    assertEquals(List.of("join:Cy", "join:Di"), bo.presenceUntilFence());
                }
            }
        }
    }

    @Test
    void aLeaveWhileRedisIsFrozenIsToldOnceItThaws(TestInfo test) throws Exception {
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = ClusterNode.start(settings(redis.uri(), test));
             ClusterNode b = ClusterNode.start(settings(redis.uri(), test));
             Inbox pedro = tab(b.server().webSocketUri(), "Pedro")) {
            Inbox ana = tab(a.server().webSocketUri(), "Ana");
            Await.until("Pedro sees Ana", () -> pedro.socket().presence(ROOM).member("Ana") != null);
            fence(a);
            assertEquals(List.of("list:Pedro", "join:Ana"), pedro.presenceUntilFence());

            redis.signal("STOP");
            ana.close();
            Await.until("node A saw Ana go", () -> a.switchboard().root().sockets().isEmpty());
            // Two emits from node A that fail one after the other: its presence, which went to read
            // the room as Ana left, before them, met the silence too.
            for (int i = 0; i < 2; i++) {
                assertThrows(ClusterException.class, () -> a.switchboard().root().emit("lost"));
            }
            redis.signal("CONT");

            Await.until("Pedro hears that Ana left", () -> pedro.socket().presence(ROOM).member("Ana") == null);
            fence(a);
            assertEquals(List.of("leave:Ana"), pedro.presenceUntilFence());
            assertEquals(List.of(new PresentUser("Pedro", Map.of(), false)), presence(b));
        }
    }

    @Test
    void afterRedisRestartedEmptyEachNodeWritesItsUsersAgainAndTellsItsSocketsTheList(TestInfo test) throws Exception {
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = ClusterNode.start(settings(redis.uri(), test));
             ClusterNode b = ClusterNode.start(settings(redis.uri(), test));
             Inbox ana = tab(a.server().webSocketUri(), "Ana");
             Inbox pedro = tab(b.server().webSocketUri(), "Pedro")) {
            fence(a);
            assertEquals(List.of("list:Ana,Pedro"), pedro.presenceUntilFence());
            List<PresentUser> both = List.of(new PresentUser("Ana", Map.of(), false), new PresentUser("Pedro", Map.of(), false));

            redis.kill();
            redis.restart();
            Await.until("both nodes wrote their users again", () -> {
                try {
                    return presence(a).equals(both);
                } catch (Exception redisNotBackYet) {
                    return false;
                }
            });
            fence(a);
            assertTrue(pedro.presenceUntilFence().stream().anyMatch(event -> event.startsWith("list:")),
                    "a fresh list after the restart");
            assertEquals(List.of("Ana", "Pedro"), pedro.members(ROOM));

            ana.close();
            Await.until("Ana gone", () -> pedro.socket().presence(ROOM).member("Ana") == null);
            fence(b);
            assertEquals(List.of("leave:Ana"), pedro.presenceUntilFence());
        }
    }

    /**
     * Two namespaces whose names and room names join to the same text ("/org:admin" and "#lobby",
     * "/org" and "admin:#lobby") are still two rooms: a member of one does not see who is in the other.
     */
    @Test
    void aRoomOfAnotherNamespaceWhoseNameJoinsToTheSameTextSharesNoPresence(TestInfo test) throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            RedisCluster cluster = settings(redis.uri(), test).connect();
            try (TestServer server = TestServer.start(TestServer.options().adapter(cluster.adapters())
                    .sessionStore(cluster.sessionStore()).build(), sb -> {
                        for (String[] namespaceAndRoom : new String[][] {{"/org:admin", "#lobby"}, {"/org", "admin:#lobby"}}) {
                            Namespace namespace = sb.of(namespaceAndRoom[0]).trackPresence(room -> room.contains("#"));
                            namespace.use(socket -> socket.userId(socket.handshake().auth(Map.class).get("user").toString()));
                            namespace.onConnection(socket -> socket.join(namespaceAndRoom[1]));
                        }
                    });
                 RawClient ana = server.raw();
                 RawClient pedro = server.raw()) {
                ana.next("hello");
                ana.connectNamespace("/org:admin", "{\"user\":\"Ana\"}");
                assertEquals("Ana", ana.next(packet -> "presence:list".equals(packet.getString("event", null)))
                        .getJsonArray("args").getJsonObject(0).getJsonArray("users").getJsonObject(0).getString("userId"));
                pedro.next("hello");
                pedro.connectNamespace("/org", "{\"user\":\"Pedro\"}");
                JsonObject list = pedro.next(packet -> "presence:list".equals(packet.getString("event", null)));
                assertEquals(List.of("Pedro"), list.getJsonArray("args").getJsonObject(0).getJsonArray("users")
                        .getValuesAs(JsonObject.class).stream().map(user -> user.getString("userId")).toList(),
                        "the list of /org's room: " + list);
                assertEquals(List.of("Ana"), server.switchboard().of("/org:admin").presence("#lobby").get(10, TimeUnit.SECONDS)
                        .stream().map(PresentUser::userId).toList());
            } finally {
                cluster.close();
            }
        }
    }

    /**
     * Node A is cut from Redis past the node timeout: node B counts it dead, and Ana, on A, turns
     * away. Once A's link returns, A finds itself fenced and closes its connections; Ana comes back
     * to A, which lives again, and recovers there. Node B, which still counts the window of A's
     * death, must not take A's connected users for the dead node's: Ana stays back, through later
     * changes made on B and past that window.
     */
    @Test
    void aUserBackOnAFencedNodeThatLivesAgainStaysThere(TestInfo test) throws Exception {
        Duration window = Duration.ofSeconds(10);
        try (RedisServer redis = RedisServer.start();
             CuttableProxy link = new CuttableProxy(redis.port());
             ClusterNode a = ClusterNode.start(settings("redis://127.0.0.1:" + link.port(), test), window);
             ClusterNode b = ClusterNode.start(settings(redis.uri(), test), window);
             Inbox pedro = tab(b.server().webSocketUri(), "Pedro");
             Inbox ana = tab(a.server().webSocketUri(), "Ana")) {
            RoomPresence pedroSees = pedro.socket().presence(ROOM);
            Await.until("Pedro sees Ana", () -> pedroSees.member("Ana") != null);
            Await.until("both nodes see each other", () -> b.cluster().liveNodes().size() == 2);
            String anaId = ana.socket().id();

            link.refuse(true);
            link.cut();
            Await.until("node B counts node A dead", () -> b.cluster().liveNodes().size() == 1);
            Await.until("Ana away", () -> pedroSees.member("Ana").away());
            link.refuse(false);
            Await.until("node A fenced", () -> a.cluster().status().fencings() == 1);
            Await.until("Ana back on node A", () -> a.switchboard().root().sockets().containsKey(anaId)
                    && ana.socket().connected());
            Await.until("Ana back", () -> pedroSees.member("Ana") != null && !pedroSees.member("Ana").away());

            try (Inbox cy = tab(b.server().webSocketUri(), "Cy")) {
                Await.until("Pedro sees Cy", () -> pedroSees.member("Cy") != null);
            }
            // Past the window of A's death on B, which then brings the rooms up to date once more.
            Thread.sleep(window.plusSeconds(2).toMillis());
            try (Inbox di = tab(b.server().webSocketUri(), "Di")) {
                Await.until("Pedro sees Di", () -> pedroSees.member("Di") != null);
            }
            Await.until("Pedro sees Di go", () -> pedroSees.member("Di") == null);
            fence(b);
            assertEquals(List.of("list:Pedro", "join:Ana", "away:Ana", "back:Ana", "join:Cy", "leave:Cy", "join:Di",
                    "leave:Di"), pedro.presenceUntilFence());
            List<PresentUser> both = List.of(new PresentUser("Ana", Map.of(), false), new PresentUser("Pedro", Map.of(), false));
            assertEquals(both, presence(b));
        }
    }
}
