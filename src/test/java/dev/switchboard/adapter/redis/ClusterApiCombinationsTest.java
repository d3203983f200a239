package dev.switchboard.adapter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.demo.ChatApp;
import dev.switchboard.demo.DemoApp;
import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.server.Namespace;
import dev.switchboard.testing.ApiClient;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.ClientProcess;
import dev.switchboard.testing.PrometheusText;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * The HTTP API combined with the cluster's faults and recovery: a backend posts to node A about a
 * client whose connection is on node B, away from B, or on a node that dies; the client then
 * comes back elsewhere. What the backend changed must hold wherever the client recovers, as it
 * does when the client comes back to the node it left. Real HTTP, real sockets, a real
 * {@code redis-server} per test.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ClusterApiCombinationsTest {
    private static final String KEY = "combination-key";
    private static final String FENCE = "fence";

    private static HttpApiSettings api() {
        // Tests poll the API until what they wait for shows: a rate no poll reaches.
        return HttpApiSettings.off().withKeys(List.of(KEY)).withMetrics(true).withRateLimit(10_000, 10_000);
    }

    private static ClusterNode node(RedisServer redis, TestInfo test, HttpApiSettings api) {
        return ClusterNode.start(ClusterNode.settings(redis.uri(), test.getTestMethod().orElseThrow().getName())
                .logRetention(Duration.ofSeconds(30)), api);
    }

    private static ApiClient apiOf(ClusterNode node) {
        return new ApiClient(URI.create("http://127.0.0.1:" + node.server().port()));
    }

    private static Namespace root(ClusterNode node) {
        return node.switchboard().root();
    }

    private static void join(RawClient client, String room) {
        client.send("{\"type\":\"event\",\"event\":\"join\",\"args\":[\"" + room + "\"],\"ack\":1}");
        client.next(packet -> "ack".equals(packet.getString("type")) && packet.getInt("ack") == 1);
    }

    private static JsonObject nextEvent(RawClient client, String name) {
        return client.next(packet -> "event".equals(packet.getString("type")) && name.equals(packet.getString("event")));
    }

    /** The events before the fence, as {@code "name:firstArg"}. */
    private static List<String> untilFence(RawClient client) {
        List<String> events = new ArrayList<>();
        for (JsonObject event = client.next("event"); !FENCE.equals(event.getString("event")); event = client.next("event")) {
            events.add(event.getString("event") + ":" + event.getJsonArray("args").get(0));
        }
        return events;
    }

    /**
     * The rooms of socket {@code id} as the API lists them (any node's sockets). Right after a
     * node died the query waits for it and answers 503 until the others count it dead.
     */
    @SuppressWarnings("unchecked")
    private static Set<String> roomsListed(ApiClient api, String id) {
        HttpResponse<String>[] listed = new HttpResponse[1];
        Await.until("the sockets listed", () -> (listed[0] = api.get("/api/sockets", KEY)).statusCode() == 200);
        for (JsonObject socket : ApiClient.json(listed[0]).getJsonArray("sockets").getValuesAs(JsonObject.class)) {
            if (id.equals(socket.getString("id"))) {
                Set<String> rooms = new TreeSet<>();
                socket.getJsonArray("rooms").getValuesAs(JsonString.class).forEach(room -> rooms.add(room.getString()));
                return rooms;
            }
        }
        throw new AssertionError(id + " not listed");
    }

    private static void post(ApiClient api, String path, String body) {
        var response = api.post(path, KEY, body);
        assertEquals(200, response.statusCode(), response.body());
    }

    /** A client of node B, in the lobby, that saw one event and dropped: its session waits on B. */
    private record Away(String id, String pid, String offset) {
        static Away on(ClusterNode b, String user) {
            try (RawClient client = RawClient.connect(b.server().webSocketUri())) {
                JsonObject first = client.connectAs(user, null, null);
                join(client, "lobby");
                root(b).to(first.getString("id")).emit("before", 0);
                String seen = nextEvent(client, "before").getString("offset");
                client.abort();
                Await.until("the session of " + user + " waits on B",
                        () -> root(b).detachedSessions().containsKey(first.getString("id")));
                return new Away(first.getString("id"), first.getString("pid"), seen);
            }
        }
    }

    /**
     * A backend joins a user to a room through node A while the user's only session is away on
     * node B; an event goes to that room; the client comes back to node A. It is in the room and
     * gets the event, as when it comes back to B.
     */
    @Test
    void aRoomJoinedThroughTheApiWhileAwayHoldsWhenTheClientRecoversOnAnotherNode(TestInfo test) {
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = node(redis, test, api());
             ClusterNode b = node(redis, test, HttpApiSettings.off())) {
            ApiClient api = apiOf(a);
            Away bob = Away.on(b, "bob");

            post(api, "/api/sockets/join", "{\"user\":\"bob\",\"join\":[\"news\"]}");
            api.emit(KEY, "{\"event\":\"headline\",\"args\":[1],\"rooms\":[\"news\"]}");
            try (RawClient back = RawClient.connect(a.server().webSocketUri())) {
                JsonObject again = back.connectAs("bob", bob.pid(), bob.offset());
                assertTrue(again.getBoolean("recovered"), again.toString());
                api.emit(KEY, "{\"event\":\"headline\",\"args\":[2],\"rooms\":[\"news\"]}");
                api.emit(KEY, "{\"event\":\"" + FENCE + "\",\"args\":[0]}");
                assertEquals(List.of("headline:1", "headline:2"), untilFence(back));
                assertEquals(Set.of(bob.id(), "user:bob", "lobby", "news"), roomsListed(api, bob.id()));
            }
        }
    }

    /**
     * The same with a leave: a backend takes an away user out of the lobby through node A; the
     * client comes back to node A and hears nothing more of the lobby.
     */
    @Test
    void aRoomLeftThroughTheApiWhileAwayStaysLeftWhenTheClientRecoversOnAnotherNode(TestInfo test) {
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = node(redis, test, api());
             ClusterNode b = node(redis, test, HttpApiSettings.off())) {
            ApiClient api = apiOf(a);
            Away bob = Away.on(b, "bob");

            post(api, "/api/sockets/leave", "{\"user\":\"bob\",\"leave\":[\"lobby\"]}");
            api.emit(KEY, "{\"event\":\"chatter\",\"args\":[1],\"rooms\":[\"lobby\"]}");
            api.emit(KEY, "{\"event\":\"direct\",\"args\":[2],\"user\":\"bob\"}");
            try (RawClient back = RawClient.connect(a.server().webSocketUri())) {
                JsonObject again = back.connectAs("bob", bob.pid(), bob.offset());
                assertTrue(again.getBoolean("recovered"), again.toString());
                api.emit(KEY, "{\"event\":\"chatter\",\"args\":[3],\"rooms\":[\"lobby\"]}");
                api.emit(KEY, "{\"event\":\"" + FENCE + "\",\"args\":[0]}");
                assertEquals(List.of("direct:2"), untilFence(back));
                assertEquals(Set.of(bob.id(), "user:bob"), roomsListed(api, bob.id()));
            }
        }
    }

    /**
     * A backend disconnects, through node A, a user away from node B: the session waiting on B
     * ends there (B's application is told), and the client that comes back to A starts afresh.
     */
    @Test
    void aUserDisconnectedThroughTheApiWhileAwayFromAnotherNodeDoesNotRecover(TestInfo test) {
        // A window no wait in this test outlasts: the session can only end by the disconnect.
        Duration window = Duration.ofMinutes(5);
        String prefix = test.getTestMethod().orElseThrow().getName();
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = ClusterNode.start(ClusterNode.settings(redis.uri(), prefix), window, api());
             ClusterNode b = ClusterNode.start(ClusterNode.settings(redis.uri(), prefix), window)) {
            List<String> expiredOnB = new CopyOnWriteArrayList<>();
            root(b).onSessionExpired(session -> expiredOnB.add(session.id()));
            Away bob = Away.on(b, "bob");

            post(apiOf(a), "/api/sockets/disconnect", "{\"user\":\"bob\",\"close\":true}");
            Await.until("node B told its application that bob's session ended", () -> expiredOnB.contains(bob.id()));
            try (RawClient back = RawClient.connect(a.server().webSocketUri())) {
                JsonObject again = back.connectAs("bob", bob.pid(), bob.offset());
                assertFalse(again.getBoolean("recovered"), again.toString());
            }
        }
    }

    /**
     * A backend joins a connected client of node B to a room through node A; node B is then
     * killed and the client recovers on node A: it is still in the room and gets what was sent to
     * it meanwhile.
     */
    @Test
    void aRoomJoinedThroughTheApiHoldsWhenTheClientsNodeIsKilled(TestInfo test) throws Exception {
        String prefix = test.getTestMethod().orElseThrow().getName();
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = node(redis, test, api());
             ClientProcess b = ClientProcess.startMain(ClusterNode.class, "-Xmx128m", redis.uri(), prefix, "PT30S")) {
            ApiClient api = apiOf(a);
            URI nodeB = URI.create(b.await("node ", Duration.ofSeconds(60)).split(" ")[2]);
            String id;
            String pid;
            String seen;
            try (RawClient bob = RawClient.connect(nodeB)) {
                JsonObject first = bob.connectAs("bob", null, null);
                id = first.getString("id");
                pid = first.getString("pid");
                post(api, "/api/sockets/join", "{\"user\":\"bob\",\"join\":[\"news\"]}");
                api.emit(KEY, "{\"event\":\"headline\",\"args\":[1],\"rooms\":[\"news\"]}");
                seen = nextEvent(bob, "headline").getString("offset");
                b.kill();
            }
            api.emit(KEY, "{\"event\":\"headline\",\"args\":[2],\"rooms\":[\"news\"]}");
            try (RawClient back = RawClient.connect(a.server().webSocketUri())) {
                JsonObject again = back.connectAs("bob", pid, seen);
                assertTrue(again.getBoolean("recovered"), again.toString());
                api.emit(KEY, "{\"event\":\"headline\",\"args\":[3],\"rooms\":[\"news\"]}");
                api.emit(KEY, "{\"event\":\"" + FENCE + "\",\"args\":[0]}");
                assertEquals(List.of("headline:2", "headline:3"), untilFence(back));
                assertEquals(Set.of(id, "user:bob", "news"), roomsListed(api, id));
            }
        }
    }

    /**
     * Node B's {@code /metrics} while a client that dropped from B has recovered on node A: B no
     * longer counts its session as waiting (the client is connected, and counted, on A), long
     * before the window would have ended it.
     */
    @Test
    void aSessionRecoveredOnAnotherNodeNoLongerCountsAsWaitingOnItsFirstNode(TestInfo test) {
        String prefix = test.getTestMethod().orElseThrow().getName();
        Duration window = Duration.ofMinutes(2);
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = ClusterNode.start(ClusterNode.settings(redis.uri(), prefix), window, api());
             ClusterNode b = ClusterNode.start(ClusterNode.settings(redis.uri(), prefix), window, api())) {
            ApiClient metricsOfA = apiOf(a);
            ApiClient metricsOfB = apiOf(b);
            Away bob = Away.on(b, "bob");
            assertEquals(1, waiting(metricsOfB));
            try (RawClient back = RawClient.connect(a.server().webSocketUri())) {
                assertTrue(back.connectAs("bob", bob.pid(), bob.offset()).getBoolean("recovered"));
                assertEquals(1, scrape(metricsOfA).value("switchboard_connections", Map.of()));
                Await.until("node B no longer counts bob's session as waiting", () -> waiting(metricsOfB) == 0);
                assertEquals(0, waiting(metricsOfA));
            }
        }
    }

    private static PrometheusText scrape(ApiClient api) {
        HttpResponse<String> response = api.get("/metrics", KEY);
        assertEquals(200, response.statusCode(), response.body());
        return PrometheusText.parse(response.body());
    }

    private static double waiting(ApiClient api) {
        return scrape(api).value("switchboard_recovery_waiting_sessions", Map.of());
    }

    /** Two nodes running the demo's chat on one Redis, as {@code -Ddemo.redis} makes them. */
    private record ChatNodes(RedisCluster first, RedisCluster second, TestServer one, TestServer two)
            implements AutoCloseable {
        static ChatNodes start(RedisServer redis, TestInfo test) {
            String prefix = test.getTestMethod().orElseThrow().getName();
            RedisCluster first = ClusterNode.settings(redis.uri(), prefix).connect();
            RedisCluster second = ClusterNode.settings(redis.uri(), prefix).connect();
            TestServer one = TestServer.start(TestServer.options().adapter(first.adapters())
                    .sessionStore(first.sessionStore()).build(), DemoApp::install);
            TestServer two = TestServer.start(TestServer.options().adapter(second.adapters())
                    .sessionStore(second.sessionStore()).build(), DemoApp::install);
            return new ChatNodes(first, second, one, two);
        }

        @Override
        public void close() {
            two.close();
            one.close();
            second.close();
            first.close();
        }
    }

    private static JsonObject chatAs(RawClient client, String authJson) {
        return client.connectNamespace(ChatApp.NAMESPACE, authJson);
    }

    /**
     * The demo's chat: val is away from node two (her tab lost its connection) when una, on node
     * one, writes to her privately. The message is accepted, as it is when both are on one node,
     * and val gets it when her tab recovers.
     */
    @Test
    void aPrivateMessageToAUserAwayOnAnotherNodeIsAcceptedAndReachesHerOnRecovery(TestInfo test) {
        try (RedisServer redis = RedisServer.start(); ChatNodes chat = ChatNodes.start(redis, test);
             RawClient una = chat.one().raw()) {
            assertEquals("connect", chatAs(una, "{\"name\":\"una\"}").getString("type"));
            String pid;
            try (RawClient val = chat.two().raw()) {
                JsonObject first = chatAs(val, "{\"name\":\"val\"}");
                pid = first.getString("pid");
                // Val has been in the room a moment: the whole chat lists her.
                Await.until("val listed in the chat on node one", () -> chat.one().switchboard().namespaces()
                        .get(ChatApp.NAMESPACE).presence().join().stream().anyMatch(user -> "val".equals(user.userId())));
                val.abort();
                Await.until("val's session waits on node two", () -> !chat.two().switchboard()
                        .namespaces().get(ChatApp.NAMESPACE).detachedSessions().isEmpty());
            }
            una.send("{\"type\":\"event\",\"nsp\":\"/chat\",\"event\":\"private\",\"args\":[\"val\",\"psst\"],\"ack\":7}");
            JsonObject answer = una.next(packet -> "ack".equals(packet.getString("type")) && packet.getInt("ack", 0) == 7);
            assertEquals("[{}]", answer.getJsonArray("args").toString(), "accepted for val, who is away");
            try (RawClient back = chat.two().raw()) {
                back.send("{\"type\":\"connect\",\"nsp\":\"/chat\",\"auth\":{\"name\":\"val\"},\"pid\":\"" + pid + "\"}");
                JsonObject again = back.next(packet -> packet.getString("type").startsWith("connect"));
                assertTrue(again.getBoolean("recovered", false), again.toString());
                back.next(packet -> "event".equals(packet.getString("type")) && "private".equals(packet.getString("event"))
                        && packet.getJsonArray("args").toString().contains("psst"));
            }
        }
    }

    /**
     * The demo's chat: val is away from node two when wes arrives on node one. The room list wes
     * gets counts her, as it would on one node, with una: three in "general".
     */
    @Test
    void theChatsRoomCountsIncludeAUserAwayOnAnotherNode(TestInfo test) {
        try (RedisServer redis = RedisServer.start(); ChatNodes chat = ChatNodes.start(redis, test);
             RawClient una = chat.one().raw()) {
            assertEquals("connect", chatAs(una, "{\"name\":\"una\"}").getString("type"));
            try (RawClient val = chat.two().raw()) {
                assertEquals("connect", chatAs(val, "{\"name\":\"val\"}").getString("type"));
                Await.until("val listed in the chat on node one", () -> chat.one().switchboard().namespaces()
                        .get(ChatApp.NAMESPACE).presence().join().stream().anyMatch(user -> "val".equals(user.userId())));
                // The room lists of both arrivals, each sent through Redis to the whole chat: past, so
                // that wes gets his own. Una's may be the later one and count val too, if its
                // queries through Redis took longer than val's connect.
                una.next(packet -> "event".equals(packet.getString("type")) && "rooms".equals(packet.getString("event")));
                una.next(packet -> "event".equals(packet.getString("type")) && "rooms".equals(packet.getString("event"))
                        && packet.getJsonArray("args").toString().contains("\"members\":2"));
                val.abort();
                Await.until("val's session waits on node two", () -> !chat.two().switchboard()
                        .namespaces().get(ChatApp.NAMESPACE).detachedSessions().isEmpty());
            }
            try (RawClient wes = chat.one().raw()) {
                assertEquals("connect", chatAs(wes, "{\"name\":\"wes\"}").getString("type"));
                JsonObject rooms = wes.next(packet -> "event".equals(packet.getString("type"))
                        && "rooms".equals(packet.getString("event")));
                assertEquals("[[{\"members\":3,\"name\":\"general\"}]]", rooms.getJsonArray("args").toString());
            }
        }
    }

    /** Ana and Bob connect, each to a node; returns once node A's API lists both. */
    private static void connectBoth(ApiClient api, RawClient ana, RawClient bob) {
        ana.connectAs("ana", null, null);
        bob.connectAs("bob", null, null);
        Await.until("node A sees both", () -> ApiClient.json(api.get("/api/sockets", KEY)).getJsonArray("sockets").size() == 2);
    }

    /**
     * Redis frozen: an emit and a join posted to node A are refused with 503 within the
     * timeouts, and, once Redis is back, neither has happened: a caller that retries (as 503
     * and Retry-After invite) does not get the join or the event twice, nor half of it.
     */
    @Test
    void apiCallsRefusedWhileRedisIsFrozenLeaveNothingBehind(TestInfo test) throws Exception {
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = node(redis, test, api());
             ClusterNode b = node(redis, test, HttpApiSettings.off());
             RawClient ana = RawClient.connect(a.server().webSocketUri());
             RawClient bob = RawClient.connect(b.server().webSocketUri())) {
            ApiClient api = apiOf(a);
            connectBoth(api, ana, bob);

            redis.signal("STOP");
            long start = System.nanoTime();
            HttpResponse<String> join = api.post("/api/sockets/join", KEY, "{\"join\":[\"news\"]}");
            HttpResponse<String> emit = api.post("/api/emit", KEY, "{\"event\":\"lost\",\"args\":[1]}");
            long millis = (System.nanoTime() - start) / 1_000_000;
            redis.signal("CONT");
            ApiClient.assertRefused(503, null, join);
            ApiClient.assertRefused(503, null, emit);
            assertTrue(millis < 6_000, "answered in " + millis + " ms");

            Await.until("the API answers again", () -> api.get("/api/sockets", KEY).statusCode() == 200);
            api.emit(KEY, "{\"event\":\"headline\",\"args\":[2],\"rooms\":[\"news\"]}");
            api.emit(KEY, "{\"event\":\"" + FENCE + "\",\"args\":[0]}");
            assertEquals("ana [], bob []", "ana " + untilFence(ana) + ", bob " + untilFence(bob));
        }
    }

    /**
     * As above, with a query timeout longer than the publish timeout (both are settings): the
     * join's request waits in the frozen Redis when its command times out on node A. Redis thaws
     * once the 503 is out, well before the request's deadline: node B must not make a join its
     * caller was told failed (docs/SCALING.md: "a call that failed ... has changed nothing, there
     * or later").
     */
    @Test
    void aJoinRefusedWhileRedisIsFrozenIsNotMadeWhenRedisThawsBeforeTheQueryTimeout(TestInfo test) throws Exception {
        String prefix = test.getTestMethod().orElseThrow().getName();
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = ClusterNode.start(ClusterNode.settings(redis.uri(), prefix)
                     .queryTimeout(Duration.ofSeconds(10)).logRetention(Duration.ofSeconds(30)), api());
             ClusterNode b = ClusterNode.start(ClusterNode.settings(redis.uri(), prefix)
                     .queryTimeout(Duration.ofSeconds(10)).logRetention(Duration.ofSeconds(30)), HttpApiSettings.off());
             RawClient ana = RawClient.connect(a.server().webSocketUri());
             RawClient bob = RawClient.connect(b.server().webSocketUri())) {
            ApiClient api = apiOf(a);
            connectBoth(api, ana, bob);

            HttpResponse<String> join;
            redis.signal("STOP");
            try {
                join = api.post("/api/sockets/join", KEY, "{\"join\":[\"news\"]}");
            } finally {
                redis.signal("CONT");
            }
            ApiClient.assertRefused(503, null, join);

            Await.until("the API answers again", () -> api.get("/api/sockets", KEY).statusCode() == 200);
            api.emit(KEY, "{\"event\":\"headline\",\"args\":[2],\"rooms\":[\"news\"]}");
            api.emit(KEY, "{\"event\":\"" + FENCE + "\",\"args\":[0]}");
            assertEquals("ana [], bob []", "ana " + untilFence(ana) + ", bob " + untilFence(bob));
        }
    }

    /**
     * An application answers a presence query with an emit, as the docs' example does
     * ({@code chat.presence("#general").thenAccept(users -> ...)}), on a cluster: the emit is
     * sent. The query's answer must not come on the thread that carries Redis' replies, or the
     * emit waits there for its own reply until the publish timeout.
     */
    @Test
    void anEmitMadeWhenAPresenceQueryAnswersIsSent(TestInfo test) throws Exception {
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = node(redis, test, HttpApiSettings.off());
             ClusterNode b = node(redis, test, HttpApiSettings.off());
             RawClient ana = RawClient.connect(b.server().webSocketUri())) {
            ana.connectAs("ana", null, null);
            join(ana, "#lobby");
            Await.until("node A lists ana in #lobby", () -> root(a).presence("#lobby").join().size() == 1);
            root(a).presence("#lobby").thenAccept(users -> root(a).to("#lobby").emit("listed", users.size()))
                    .get(10, TimeUnit.SECONDS);
            assertEquals(1, nextEvent(ana, "listed").getJsonArray("args").getInt(0));
        }
    }
}
