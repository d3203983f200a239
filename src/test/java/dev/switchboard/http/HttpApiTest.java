package dev.switchboard.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static dev.switchboard.testing.ApiClient.assertRefused;
import static dev.switchboard.testing.ApiClient.json;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.ReservedEvents;
import dev.switchboard.testing.ApiClient;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.PrometheusText;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.VirtualTime;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The HTTP API and {@code /metrics} on the standalone server, through real HTTP and real
 * WebSocket clients: an emit reaches exactly its targets, acks come back one per recipient,
 * the room calls and queries act on the live sockets, and every kind of bad request gets its
 * status and a JSON error naming the field, reaching no socket.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class HttpApiTest {
    private static final String KEY = "first-key";
    private static final String ROTATED_IN = "second-key";
    private static final String FLOOD = "flood-key";
    private static final int BURST = 100;
    private static final String NSP = "/t";
    private static final VirtualTime TIME = new VirtualTime();
    private static TestServer server;
    private static ApiClient api;
    private final List<RawClient> clients = new ArrayList<>();

    @BeforeAll
    static void start() {
        HttpApiSettings settings = HttpApiSettings.off().withKeys(List.of(KEY, ROTATED_IN, FLOOD)).withMetrics(true)
                .withMaxBodyBytes(4096).withRateLimit(10, BURST).withClock(TIME.clock());
        server = TestServer.start(TestServer.options().build(), sb -> sb.of(NSP).use(socket -> {
            String user = socket.handshake().auth(Map.class) == null ? null
                    : (String) socket.handshake().auth(Map.class).get("user");
            if (user != null) {
                socket.userId(user);
            }
        }), settings);
        api = new ApiClient(URI.create("http://127.0.0.1:" + server.port()));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** Each test starts with every key's allowance full. */
    @BeforeEach
    void refill() {
        TIME.advance(Duration.ofMinutes(1));
    }

    /**
     * The server is shared: the next test must not start while this one's sockets are still
     * ending, or it finds them in its rooms, its users and its metrics.
     */
    @org.junit.jupiter.api.AfterEach
    void closeClients() {
        clients.forEach(RawClient::close);
        Await.until("this test's connections and sockets gone", () -> server.switchboard().connectionCount() == 0
                && server.switchboard().of(NSP).sockets().isEmpty());
    }

    /** A raw socket on the test namespace, as {@code user} (or none), in {@code rooms}; returns it with its id. */
    private Member member(String user, String... rooms) throws Exception {
        RawClient raw = server.raw();
        clients.add(raw);
        JsonObject connected = raw.connectNamespace(NSP, user == null ? null : "{\"user\":\"" + user + "\"}");
        String id = connected.getString("id");
        if (rooms.length > 0) {
            assertEquals(200, post("/api/sockets/join", KEY, "{\"namespace\":\"" + NSP + "\",\"socket\":\"" + id
                    + "\",\"join\":" + jsonList(rooms) + "}").statusCode());
        }
        return new Member(id, raw);
    }

    private record Member(String id, RawClient raw) {
        /** The {@code news} events up to the next {@code end}, by their first argument. */
        List<String> newsUntilEnd() {
            List<String> news = new ArrayList<>();
            while (true) {
                JsonObject event = raw.next("event");
                if (event.getString("event").equals("end")) {
                    return news;
                }
                news.add(event.getJsonArray("args").getString(0));
            }
        }
    }

    @Test
    void anEmitReachesExactlyWhatTheSameOperatorChainWould() throws Exception {
        Member annInRed = member("ann", "red");
        Member bobInBlue = member("bob", "blue");
        Member mutedInRed = member(null, "red", "muted");
        Member annElsewhere = member("ann");

        String offset = emit("{\"namespace\":\"/t\",\"event\":\"news\",\"args\":[\"red-not-muted\"],"
                + "\"rooms\":[\"red\"],\"except\":[\"muted\"]}").getString("offset");
        assertNotNull(offset);
        emit("{\"namespace\":\"/t\",\"event\":\"news\",\"args\":[\"ann\"],\"user\":\"ann\"}");
        emit("{\"namespace\":\"/t\",\"event\":\"news\",\"args\":[\"bob-socket\"],\"socket\":\"" + bobInBlue.id() + "\"}");
        emit("{\"namespace\":\"/t\",\"event\":\"news\",\"args\":[\"blue-or-ann\"],\"rooms\":[\"blue\"],\"user\":\"ann\"}");
        JsonObject volatileEmit = emit("{\"namespace\":\"/t\",\"event\":\"news\",\"args\":[\"all\"],\"volatile\":true}");
        assertTrue(volatileEmit.isNull("offset"), "a volatile emit is never replayed: " + volatileEmit);
        emit("{\"namespace\":\"/t\",\"event\":\"end\"}");

        assertEquals(List.of("red-not-muted", "ann", "blue-or-ann", "all"), annInRed.newsUntilEnd());
        assertEquals(List.of("bob-socket", "blue-or-ann", "all"), bobInBlue.newsUntilEnd());
        assertEquals(List.of("all"), mutedInRed.newsUntilEnd());
        assertEquals(List.of("ann", "blue-or-ann", "all"), annElsewhere.newsUntilEnd());
    }

    @Test
    void anEmitWithAckAnswersOnePerRecipientAndWhatCameBeforeTheTimeout() throws Exception {
        Member first = member(null, "voters");
        Member second = member(null, "voters");
        Member silent = member(null, "voters");
        Thread answering = new Thread(() -> {
            for (Member voter : List.of(first, second)) {
                JsonObject question = voter.raw().next("event");
                voter.raw().send("{\"type\":\"ack\",\"nsp\":\"/t\",\"ack\":" + question.getInt("ack")
                        + ",\"args\":[\"yes from " + voter.id() + "\",{\"big\":12345678901234567890}]}");
            }
        });
        answering.start();
        JsonObject all = emit("{\"namespace\":\"/t\",\"event\":\"poll\",\"rooms\":[\"voters\"],"
                + "\"except\":[\"" + silent.id() + "\"],\"ack\":{\"timeoutMs\":10000}}");
        answering.join();
        assertTrue(all.getBoolean("complete"), all.toString());
        assertEquals(2, all.getJsonArray("answers").size(), all.toString());
        // The clients' arguments as they sent them: a big integer stays exact.
        assertTrue(all.getJsonArray("answers").toString().contains("12345678901234567890"), all.toString());

        Thread answeringOne = new Thread(() -> {
            JsonObject question = first.raw().next("event");
            first.raw().send("{\"type\":\"ack\",\"nsp\":\"/t\",\"ack\":" + question.getInt("ack") + ",\"args\":[\"yes\"]}");
        });
        answeringOne.start();
        JsonObject partial = emit("{\"namespace\":\"/t\",\"event\":\"poll\",\"rooms\":[\"voters\"],"
                + "\"ack\":{\"timeoutMs\":1500}}");
        answeringOne.join();
        assertFalse(partial.getBoolean("complete"), partial.toString());
        assertEquals("[[\"yes\"]]", partial.getJsonArray("answers").toString());
    }

    @Test
    void roomsChangeAndQueriesSeeTheLiveSockets() throws Exception {
        Member ann = member("ann");
        Member bob = member("bob", "lobby");
        assertEquals(200, post("/api/sockets/join", KEY, "{\"namespace\":\"/t\",\"user\":\"ann\",\"join\":[\"lobby\",\"vip\"]}")
                .statusCode());

        JsonObject lobby = json(get("/api/sockets?namespace=%2Ft&room=lobby", KEY));
        assertEquals(2, lobby.getJsonArray("sockets").size(), lobby.toString());
        JsonObject annSocket = lobby.getJsonArray("sockets").getValuesAs(JsonObject.class).stream()
                .filter(socket -> socket.getString("id").equals(ann.id())).findFirst().orElseThrow();
        assertEquals("ann", annSocket.getString("user"));
        assertTrue(annSocket.getJsonArray("rooms").toString().contains("\"vip\""), annSocket.toString());
        assertTrue(json(get("/api/rooms?namespace=/t", KEY)).getJsonArray("rooms").toString().contains("\"vip\""));
        assertTrue(json(get("/api/namespaces", KEY)).getJsonArray("namespaces").toString().contains("\"/t\""));

        assertEquals(200, post("/api/sockets/leave", KEY, "{\"namespace\":\"/t\",\"rooms\":[\"lobby\"],\"leave\":[\"lobby\"]}")
                .statusCode());
        assertEquals(0, json(get("/api/sockets?namespace=/t&room=lobby", KEY)).getJsonArray("sockets").size());

        assertEquals(200, post("/api/sockets/disconnect", KEY, "{\"namespace\":\"/t\",\"socket\":\"" + bob.id() + "\"}")
                .statusCode());
        assertEquals("/t", bob.raw().next("disconnect").getString("nsp"));
        List<String> left = json(get("/api/sockets?namespace=/t", KEY)).getJsonArray("sockets")
                .getValuesAs(JsonObject.class).stream().map(socket -> socket.getString("id")).toList();
        assertTrue(left.contains(ann.id()) && !left.contains(bob.id()), left.toString());
    }

    @Test
    void badRequestsGetTheirStatusAndNameTheFieldAndReachNoSocket() throws Exception {
        Member watcher = member("ann", "red");
        String emit = "/api/emit";
        assertRefused(401, null, post(emit, null, "{\"event\":\"x\"}"));
        assertRefused(401, null, post(emit, "wrong-key", "{\"event\":\"x\"}"));
        assertRefused(401, null, api.send(HttpRequest.newBuilder(api.uri(emit)).header("Authorization", "Bearer " + KEY)
                .POST(HttpRequest.BodyPublishers.ofString("{}"))));
        assertEquals("apikey", post(emit, null, "{}").headers().firstValue("WWW-Authenticate").orElse(""));
        // Nothing that helps guessing: a missing key and a wrong one read the same.
        assertEquals(post(emit, null, "{}").body(), post(emit, "first-kez", "{}").body());

        assertRefused(400, null, post(emit, KEY, "{\"event\":"));
        assertRefused(400, null, post(emit, KEY, "[1,2]"));
        assertRefused(400, "colour", post(emit, KEY, "{\"namespace\":\"/t\",\"event\":\"x\",\"colour\":\"red\"}"));
        assertRefused(400, "rooms", post(emit, KEY, "{\"namespace\":\"/t\",\"event\":\"x\",\"rooms\":\"red\"}"));
        assertRefused(400, "rooms", post(emit, KEY, "{\"namespace\":\"/t\",\"event\":\"x\",\"rooms\":[1]}"));
        assertRefused(400, "event", post(emit, KEY, "{\"namespace\":\"/t\",\"event\":5}"));
        assertRefused(400, "event", post(emit, KEY, "{\"namespace\":\"/t\",\"args\":[]}"));
        assertRefused(400, "args", post(emit, KEY, "{\"namespace\":\"/t\",\"event\":\"x\",\"args\":{}}"));
        assertRefused(400, "volatile", post(emit, KEY, "{\"namespace\":\"/t\",\"event\":\"x\",\"volatile\":\"yes\"}"));
        assertRefused(400, "ack.timeoutMs", post(emit, KEY, "{\"namespace\":\"/t\",\"event\":\"x\",\"ack\":{\"timeoutMs\":-1}}"));
        assertRefused(400, "ack.timeoutMs", post(emit, KEY, "{\"namespace\":\"/t\",\"event\":\"x\",\"ack\":{\"timeoutMs\":999999999}}"));
        assertRefused(400, "ack.retries", post(emit, KEY, "{\"namespace\":\"/t\",\"event\":\"x\",\"ack\":{\"retries\":1}}"));
        for (String reserved : ReservedEvents.NAMES) {
            assertRefused(400, "event", post(emit, KEY, "{\"namespace\":\"/t\",\"event\":\"" + reserved + "\",\"rooms\":[\"red\"]}"));
        }
        assertRefused(400, "join", post("/api/sockets/join", KEY, "{\"namespace\":\"/t\",\"join\":[]}"));
        assertRefused(400, "close", post("/api/sockets/disconnect", KEY, "{\"namespace\":\"/t\",\"close\":1}"));
        assertRefused(400, "colour", get("/api/sockets?namespace=/t&colour=red", KEY));

        assertRefused(413, null, post(emit, KEY, "{\"namespace\":\"/t\",\"event\":\"x\",\"args\":[\"" + "x".repeat(5000) + "\"]}"));
        assertRefused(404, "namespace", post(emit, KEY, "{\"namespace\":\"/nowhere\",\"event\":\"x\"}"));
        assertRefused(404, "namespace", get("/api/sockets?namespace=/nowhere", KEY));
        assertFalse(server.switchboard().namespaces().containsKey("/nowhere"), "the API creates no namespace");
        assertRefused(404, null, get("/api/nothing", KEY));
        HttpResponse<String> wrongMethod = get(emit, KEY);
        assertRefused(405, null, wrongMethod);
        assertEquals("POST", wrongMethod.headers().firstValue("Allow").orElse(""));
        assertRefused(405, null, post("/api/rooms", KEY, "{}"));

        // The second key works as well as the first: one can be rotated out.
        api.emit(ROTATED_IN, "{\"namespace\":\"/t\",\"event\":\"end\",\"rooms\":[\"red\"]}");
        assertEquals(List.of(), watcher.newsUntilEnd(), "no bad request reached the socket");
    }

    @Test
    void aFloodingKeyIsHeldBackWhileTheOthersAreServed() throws Exception {
        for (int i = 0; i < BURST; i++) {
            assertEquals(200, get("/api/namespaces", FLOOD).statusCode(), "request " + i);
        }
        HttpResponse<String> tooMany = get("/api/namespaces", FLOOD);
        assertRefused(429, null, tooMany);
        assertEquals("1", tooMany.headers().firstValue("Retry-After").orElse(""));
        assertEquals(200, get("/api/namespaces", KEY).statusCode());
        TIME.advance(Duration.ofSeconds(1));
        assertEquals(200, get("/api/namespaces", FLOOD).statusCode(), "the allowance refills with time");
    }

    @Test
    void metricsAreValidPrometheusTextAndMoveWithTraffic() throws Exception {
        assertEquals(401, get("/metrics", null).statusCode());
        HttpResponse<String> before = get("/metrics", KEY);
        assertEquals(200, before.statusCode());
        assertTrue(before.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        PrometheusText first = PrometheusText.parse(before.body());
        for (String family : List.of("switchboard_connections", "switchboard_received_events_total",
                "switchboard_emitted_events_total", "switchboard_delivered_frames_total", "switchboard_received_bytes_total",
                "switchboard_sent_bytes_total", "switchboard_send_queue_bytes", "switchboard_send_queue_largest_bytes",
                "switchboard_slow_consumer_connections_total", "switchboard_rate_limited_events_total",
                "switchboard_listener_failures_total", "switchboard_handler_timeouts_total", "switchboard_ack_timeouts_total",
                "switchboard_recoveries_total", "switchboard_recovery_waiting_sessions",
                "switchboard_refused_connections_total", "switchboard_rejected_origin_upgrades_total",
                "switchboard_oversized_messages_total", "switchboard_unhandled_events_total", "switchboard_unknown_acks_total",
                "jvm_memory_used_bytes", "jvm_threads_live_threads", "jvm_gc_max_data_size_bytes")) {
            assertTrue(first.hasFamily(family), family + " missing from\n" + before.body());
            assertFalse(first.help(family).isBlank(), family + " has no help");
        }
        assertEquals(1, first.value("switchboard_cluster_nodes", Map.of()), "a single node");
        assertEquals(0, first.value("switchboard_cluster_refused_connections_total", Map.of()));
        assertFalse(first.hasFamily("switchboard_cluster_link_up"), "no Redis link on a single node");

        Member member = member("ann");
        member.raw().send("{\"type\":\"event\",\"nsp\":\"/t\",\"event\":\"greeting\",\"args\":[1]}");
        member.raw().send("{\"type\":\"event\",\"nsp\":\"/t\",\"event\":\"connect\"}");
        member.raw().next("error");
        emit("{\"namespace\":\"/t\",\"event\":\"end\"}");
        member.newsUntilEnd();
        PrometheusText after = PrometheusText.parse(get("/metrics", KEY).body());
        assertTrue(after.value("switchboard_connections", Map.of()) >= 1);
        assertEquals(1, after.value("switchboard_sockets", Map.of("namespace", "/t")));
        assertEquals(after.value("switchboard_connections", Map.of()),
                after.value("switchboard_connections_by_wire_connections", Map.of("wire", "native", "transport", "websocket")),
                "every connection of this test is native, over WebSocket");
        assertTrue(after.value("switchboard_received_events_total", Map.of())
                > first.value("switchboard_received_events_total", Map.of()));
        assertTrue(after.value("switchboard_emitted_events_total", Map.of())
                > first.value("switchboard_emitted_events_total", Map.of()));
        assertTrue(after.value("switchboard_received_bytes_total", Map.of())
                > first.value("switchboard_received_bytes_total", Map.of()));
        assertTrue(after.value("switchboard_sent_bytes_total", Map.of()) > first.value("switchboard_sent_bytes_total", Map.of()));
        assertTrue(after.value("switchboard_protocol_errors_total", Map.of("code", "bad_event")) >= 1);

        // A question nobody answers, a client back with a session nobody kept.
        emit("{\"namespace\":\"/t\",\"event\":\"poll\",\"socket\":\"" + member.id() + "\",\"ack\":{\"timeoutMs\":1}}");
        try (RawClient stranger = server.raw()) {
            stranger.send("{\"type\":\"connect\",\"nsp\":\"/t\",\"pid\":\"made-up\",\"offset\":\"1\"}");
            assertFalse(stranger.next("connect").getBoolean("recovered"));
        }
        PrometheusText later = PrometheusText.parse(get("/metrics", KEY).body());
        assertTrue(later.value("switchboard_ack_timeouts_total", Map.of()) > after.value("switchboard_ack_timeouts_total", Map.of()));
        assertTrue(later.value("switchboard_recoveries_total", Map.of("result", "failed"))
                > after.value("switchboard_recoveries_total", Map.of("result", "failed")));
    }

    // ---- HTTP ----

    private static JsonObject emit(String body) {
        return api.emit(KEY, body);
    }

    private static HttpResponse<String> post(String path, String key, String body) {
        return api.post(path, key, body);
    }

    private static HttpResponse<String> get(String path, String key) {
        return api.get(path, key);
    }

    private static String jsonList(String... values) {
        return Json.createArrayBuilder(List.of(values)).build().toString();
    }
}
