package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.VirtualTime;
import jakarta.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The default heartbeat (25 s + 20 s) and recovery window (2 min), on virtual time: what a
 * vanished client costs is decided to the millisecond, and the test takes milliseconds.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class HeartbeatTest {
    private static final Duration MILLI = Duration.ofMillis(1);

    private final VirtualTime time = new VirtualTime();
    private final BlockingQueue<DisconnectReason> reasons = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> expired = new LinkedBlockingQueue<>();
    /** Sockets whose connection listener has run: the connect answer goes out before it does. */
    private final BlockingQueue<Socket> listening = new LinkedBlockingQueue<>();
    private TestServer server;
    private SwitchboardOptions options;

    @BeforeEach
    void start() {
        // What the timers set off runs on the thread that advances time, at once: every outcome is
        // decided when advance() returns.
        options = TestServer.options().clock(time.clock()).scheduler(time).callbackExecutor(Runnable::run).build();
        server = TestServer.start(options, sb -> {
            sb.onConnection(socket -> {
                socket.onDisconnect(reasons::add);
                listening.add(socket);
            });
            sb.root().onSessionExpired(session -> expired.add(session.id()));
        });
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aSilentClientIsDroppedExactlyAfterPingIntervalPlusPingTimeout() throws Exception {
        try (RawClient client = server.raw()) {
            assertEquals("connect", client.connectNamespace("/", null).getString("type"));
            assertNotNull(listening.poll(10, TimeUnit.SECONDS));
            client.stopAnsweringPings();

            time.advance(options.pingInterval());
            time.advance(options.pingTimeout().minus(MILLI));
            assertNull(reasons.poll(), "not a millisecond early");
            assertEquals(1, server.switchboard().connectionCount());

            time.advance(MILLI);
            assertEquals(DisconnectReason.PING_TIMEOUT, reasons.poll());
            assertEquals(4000, client.awaitClose());
        }
    }

    @Test
    void silentClientsConnectedApartAreEachDroppedExactlyOnTheirOwnTime() throws Exception {
        // Every connection's ping waits in one queue with one timer (PingSchedule): the second
        // connection's ping is not pulled forward or held back by the first one's.
        Duration apart = Duration.ofSeconds(10);
        Duration silence = options.pingInterval().plus(options.pingTimeout());
        try (RawClient first = server.raw()) {
            first.connectNamespace("/", null);
            assertNotNull(listening.poll(10, TimeUnit.SECONDS));
            first.stopAnsweringPings();
            time.advance(apart);
            try (RawClient second = server.raw()) {
                second.connectNamespace("/", null);
                assertNotNull(listening.poll(10, TimeUnit.SECONDS));
                second.stopAnsweringPings();

                time.advance(silence.minus(apart).minus(MILLI));
                assertNull(reasons.poll(), "not a millisecond early");
                time.advance(MILLI);
                assertEquals(DisconnectReason.PING_TIMEOUT, reasons.poll());
                assertEquals(4000, first.awaitClose());

                time.advance(apart.minus(MILLI));
                assertNull(reasons.poll(), "the second is not dropped with the first");
                assertEquals(1, server.switchboard().connectionCount());
                time.advance(MILLI);
                assertEquals(DisconnectReason.PING_TIMEOUT, reasons.poll());
                assertEquals(4000, second.awaitClose());
            }
        }
    }

    /**
     * The server stands still past pingTimeout with a ping out (stopped, starved, in a long
     * collection): the pong that arrived meanwhile waits unread, and on resuming the late pong
     * deadline runs before the reading thread gets to it. The server was late, not the client:
     * it is not dropped. A client that stays silent is still dropped a pingTimeout later.
     */
    @Test
    void aServerThatStoodStillPastPingTimeoutDoesNotDropTheClientWhosePongWaits() throws Exception {
        try (RawClient answering = server.raw(); RawClient silent = server.raw()) {
            for (RawClient client : List.of(answering, silent)) {
                client.connectNamespace("/", null);
                assertNotNull(listening.poll(10, TimeUnit.SECONDS));
                client.stopAnsweringPings();
            }
            time.advance(options.pingInterval());

            time.freeze(options.pingTimeout().plusSeconds(5));
            time.advance(Duration.ZERO);
            answering.sendJson("{'type':'pong'}");
            answering.sendJson("{'type':'event','event':'probe','args':[],'ack':1}");
            answering.next("ack");
            assertNull(reasons.poll(), "dropped for the server's own stall");

            time.advance(options.pingTimeout());
            assertEquals(DisconnectReason.PING_TIMEOUT, reasons.poll());
            assertEquals(4000, silent.awaitClose());
            assertEquals(1, server.switchboard().connectionCount());
        }
    }

    @Test
    void aDroppedSessionWaitsExactlyTheRecoveryWindowThenIsFreed() throws Exception {
        RawClient client = server.raw();
        JsonObject first = client.connectNamespace("/", null);
        client.abort();
        assertEquals(DisconnectReason.TRANSPORT_CLOSE, reasons.poll(10, TimeUnit.SECONDS));
        Namespace root = server.switchboard().root();
        assertEquals(1, root.detachedSessions().size());

        time.advance(options.recoveryWindow().minus(MILLI));
        assertTrue(expired.isEmpty());
        assertEquals(1, root.detachedSessions().size());

        time.advance(MILLI);
        assertEquals(first.getString("id"), expired.poll());
        assertTrue(root.detachedSessions().isEmpty());
        assertEquals(0, options.sessionStore().size());
        assertTrue(root.rooms().join().isEmpty(), root.rooms().join().toString());
        try (RawClient late = server.raw()) {
            late.send("{\"type\":\"connect\",\"pid\":\"" + first.getString("pid") + "\"}");
            assertFalse(late.next("connect").getBoolean("recovered"));
        }
    }
}
