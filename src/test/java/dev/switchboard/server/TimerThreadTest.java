package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The one timer thread drives every connection's heartbeat, so application code never runs on
 * it: a slow or heavy disconnect listener must not hold up anybody else's ping timeout.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TimerThreadTest {
    private static final Duration PING_INTERVAL = Duration.ofMillis(100);
    private static final Duration PING_TIMEOUT = Duration.ofMillis(100);
    /** Long enough that the test has chained its stage before the timeout completes the future. */
    /** Long enough that the test attaches its callbacks before the timeout fires, even on a loaded machine. */
    private static final Duration ACK_TIMEOUT = Duration.ofSeconds(2);
    /** More silent clients than the callback pool has threads, so that all of its threads are held. */
    private static final int SILENT = 2 * Runtime.getRuntime().availableProcessors() + 4;

    private static SwitchboardOptions.Builder fastHeartbeat() {
        return TestServer.options().pingInterval(PING_INTERVAL).pingTimeout(PING_TIMEOUT);
    }

    private static RawClient silentClient(TestServer server) {
        RawClient client = server.raw();
        // Silent once connected: on a loaded machine the connect itself may take longer than the heartbeat.
        client.connectNamespace("/", null);
        client.stopAnsweringPings();
        return client;
    }

    @Test
    void slowDisconnectListenersDoNotDelayAnotherConnectionsPingTimeout() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger heldListeners = new AtomicInteger();
        BlockingQueue<DisconnectReason> reasons = new LinkedBlockingQueue<>();
        // Heavy (a broadcast to the whole namespace, as the demo's "gone") and slow (held until released).
        try (TestServer server = TestServer.start(fastHeartbeat().build(), sb -> sb.onConnection(
                socket -> socket.onDisconnect(reason -> {
                    sb.emit("gone", socket.id());
                    heldListeners.incrementAndGet();
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    reasons.add(reason);
                })))) {
            List<RawClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < SILENT; i++) {
                    clients.add(silentClient(server));
                }
                Await.until("a silent client's disconnect listener running and held", () -> heldListeners.get() > 0);

                // Goes silent only now, while disconnect listeners are held: its ping, its
                // timeout and its 4000 must come all the same.
                RawClient latecomer = silentClient(server);
                clients.add(latecomer);
                assertEquals(4000, latecomer.awaitClose());
                for (RawClient client : clients) {
                    assertEquals(4000, client.awaitClose());
                }
            } finally {
                release.countDown();
                clients.forEach(RawClient::close);
            }
            for (int i = 0; i <= SILENT; i++) {
                assertEquals(DisconnectReason.PING_TIMEOUT, reasons.poll(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void whatTimersSetOffRunsOnCallbackThreads() throws Exception {
        Map<String, String> threadOf = new ConcurrentHashMap<>();
        BlockingQueue<Socket> sockets = new LinkedBlockingQueue<>();
        // A heartbeat that a loaded machine cannot miss by accident: a drop before the broadcast
        // would leave it no recipient, and it would complete at once on this thread.
        SwitchboardOptions options = TestServer.options().pingInterval(Duration.ofMillis(250))
                .pingTimeout(Duration.ofSeconds(1)).recoveryWindow(Duration.ofMillis(200)).build();
        try (TestServer server = TestServer.start(options, sb -> {
            sb.onConnection(socket -> {
                sockets.add(socket);
                socket.onDisconnect(reason -> threadOf.put("disconnect listener", Thread.currentThread().getName()));
            });
            sb.root().onSessionExpired(session -> threadOf.put("session expiry", Thread.currentThread().getName()));
        }); RawClient client = server.raw()) {
            client.connectNamespace("/", null);
            Socket socket = sockets.poll(10, TimeUnit.SECONDS);
            socket.timeout(ACK_TIMEOUT).emitWithAck("never-answered").whenComplete(
                    (answer, failure) -> threadOf.put("ack timeout", Thread.currentThread().getName()));
            server.switchboard().root().timeout(ACK_TIMEOUT).emitWithAck("never-answered").whenComplete(
                    (answers, failure) -> threadOf.put("broadcast ack timeout", Thread.currentThread().getName()));
            Await.until("both ack timeouts", () -> threadOf.size() >= 2);
            client.stopAnsweringPings();
            assertEquals(4000, client.awaitClose());
            Await.until("the disconnect listener and the session expiry", () -> threadOf.size() >= 4);
            assertEquals(4, threadOf.size(), threadOf.toString());
            threadOf.forEach((what, thread) ->
                    assertTrue(thread.startsWith("switchboard-callbacks-"), what + " ran on " + thread));
        }
    }
}
