package dev.switchboard.transport.grizzly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.server.Switchboard;
import dev.switchboard.testing.ApiClient;
import dev.switchboard.testing.EnginePolling;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The standalone server's edge features together: long-polling beside the pending-connection
 * bound and its timeouts, through raw sockets from other loopback addresses.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class EdgeCombinationsTest {
    private static StandaloneServer start(UnaryOperator<StandaloneOptions.Builder> options) {
        Switchboard switchboard = Switchboard.create(TestServer.options().build());
        switchboard.onConnection(socket -> socket.on("echo", event -> event.ack("served")));
        return StandaloneServer.start(switchboard, options.apply(StandaloneOptions.builder()).build());
    }

    /**
     * A long-polling POST whose head arrives but whose body never does, as a slow or hostile
     * client sends it: the connection is the pending bound's to time (idle timeout), and must not
     * hold one of the server's few worker threads meanwhile, which read every HTTP request and
     * upgrade and run the WebSockets' listeners.
     */
    @Test
    void postsWhoseBodyNeverComesDoNotHoldUpOtherClients() throws Exception {
        try (StandaloneServer server = start(o -> o.idleTimeout(Duration.ofSeconds(3)).maxPending(100, 10))) {
            // Half of them form-encoded and larger than maxPayload, whose body Grizzly would read for parameters.
            assertOthersServedWhileBodiesStall(server, i -> "POST /socket.io/?EIO=4&transport=polling&sid=none HTTP/1.1\r\n"
                    + "Content-Type: " + (i % 2 == 0 ? "text/plain;charset=UTF-8\r\nContent-Length: 1000"
                    : "application/x-www-form-urlencoded\r\nContent-Length: 200000") + "\r\n");
        }
    }

    /** The same for the HTTP API: a backend that vanishes mid-request holds no worker thread either. */
    @Test
    void apiRequestsWhoseBodyNeverComesDoNotHoldUpOtherClients() throws Exception {
        HttpApiSettings api = HttpApiSettings.off().withKeys(List.of("key"));
        try (StandaloneServer server = start(o -> o.idleTimeout(Duration.ofSeconds(3)).maxPending(100, 10).api(api))) {
            assertOthersServedWhileBodiesStall(server, i -> "POST /api/emit HTTP/1.1\r\nAuthorization: apikey key\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 1000\r\n");
        }
    }

    /**
     * A request without a valid key is refused before its body is read: the server holds none of a
     * body nobody may send, however slowly it comes.
     */
    @Test
    void anApiRequestWithoutAValidKeyIsRefusedBeforeItsBody() throws Exception {
        HttpApiSettings api = HttpApiSettings.off().withKeys(List.of("key"));
        try (StandaloneServer server = start(o -> o.api(api));
             RawTcp tcp = RawTcp.open(server.port())) {
            tcp.write(("POST /api/emit HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: apikey wrong\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{\"event\":").getBytes(StandardCharsets.US_ASCII));
            String head = tcp.readHead();
            assertTrue(head.startsWith("HTTP/1.1 401"), head);
        }
    }

    /**
     * An emit with acks waits for its answers up to its own timeout, which may be longer than the
     * idle timeout: the request is being answered, not idle, as a long-polling POST whose
     * listener runs long is not.
     */
    @Test
    void anApiEmitWaitingForAcksLongerThanTheIdleTimeoutIsAnswered() throws Exception {
        HttpApiSettings api = HttpApiSettings.off().withKeys(List.of("key"));
        try (StandaloneServer server = start(o -> o.idleTimeout(Duration.ofSeconds(1)).api(api));
             RawClient silent = RawClient.connect(server.webSocketUri())) {
            silent.connectNamespace("/", null);
            HttpResponse<String> answer = new ApiClient(URI.create("http://127.0.0.1:" + server.port()))
                    .post("/api/emit", "key", "{\"event\":\"poll\",\"ack\":{\"timeoutMs\":2500}}");
            assertEquals(200, answer.statusCode(), answer.body());
            assertEquals("{\"answers\":[],\"complete\":false}", answer.body());
        }
    }

    /**
     * Sends the heads of requests whose bodies never come, from one address (well within its share
     * of pending connections, 10 here, and more than Grizzly's workers, two per core), then checks
     * that a WebSocket client and a long-polling client are served and that the stalled requests are
     * dropped by the idle timeout.
     */
    private static void assertOthersServedWhileBodiesStall(StandaloneServer server, IntFunction<String> head) throws Exception {
        int stalledCount = Math.min(10, 4 * Runtime.getRuntime().availableProcessors());
        List<Socket> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < stalledCount; i++) {
                Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port(), InetAddress.getByName("127.0.0.5"), 0);
                socket.getOutputStream().write((head.apply(i) + "Host: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                stalled.add(socket);
            }
            // A WebSocket client upgrades and is answered (RawClient waits 5 s for each step).
            try (RawClient client = RawClient.connect(server.webSocketUri())) {
                client.connectNamespace("/", null);
                client.sendJson("{'type':'event','event':'echo','args':[],'ack':1}");
                assertEquals("served", client.next("ack").getJsonArray("args").getString(0));
            }
            // A long-polling client opens its session.
            HttpResponse<String> open = EnginePolling.getAsync(EnginePolling.uri(server.port(), "EIO=4&transport=polling"))
                    .get(5, TimeUnit.SECONDS);
            assertEquals(200, open.statusCode(), open.body());
            // The stalled requests are still dropped by the idle timeout.
            for (Socket socket : stalled) {
                assertTrue(RawTcp.closedByServer(socket, Duration.ofSeconds(10)), "a stalled request was dropped");
            }
        } finally {
            for (Socket socket : stalled) {
                socket.close();
            }
        }
    }

    /**
     * A drain closes a long-polling session while no GET waits: the session keeps what was sent
     * before and the close for the client's next GET, which must find HTTP still serving though
     * no connection is left to drain, a client's round trip later.
     */
    @Test
    void aDrainedPollingClientGetsItsLastEventsAndTheCloseOnItsNextGet() throws Exception {
        Switchboard switchboard = Switchboard.create(TestServer.options().build());
        try (StandaloneServer server = StandaloneServer.start(switchboard, StandaloneOptions.builder().build())) {
            int port = server.port();
            String sid = EnginePolling.open(port, "");
            URI session = EnginePolling.session(port, sid);
            assertEquals("ok", EnginePolling.post(session, "40").body());
            assertTrue(EnginePolling.get(session).body().startsWith("40{"));
            // No GET waits now: the event is buffered, then the drain closes the session.
            switchboard.emit("last", 1);
            CompletableFuture<Boolean> drained = server.drain(Duration.ZERO, Duration.ofSeconds(10));
            Thread.sleep(300);
            String events = EnginePolling.get(session).body();
            // (With the recovery offset the test options turn on.)
            assertTrue(events.startsWith("42[\"last\",1,"), events);
            assertEquals("1", EnginePolling.get(session).body(), "the close after the events");
            assertTrue(drained.get(10, TimeUnit.SECONDS));
        }
    }
}
