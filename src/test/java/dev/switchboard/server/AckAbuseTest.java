package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.Arguments;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.Heap;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Acks a client makes up, repeats or floods are ignored and counted; acks the server waits for stay bounded. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class AckAbuseTest {
    private static final int MAX_PENDING = 100;
    /** Heap a million emits may leave behind; 17 bytes kept per emit would exceed it. */
    private static final long RETAINED_BOUND = 16L << 20;
    private static final BlockingQueue<Socket> SOCKETS = new LinkedBlockingQueue<>();
    /** The server's timers, ours so that the test can count the ack timeouts still waiting. */
    private static final ScheduledThreadPoolExecutor TIMERS = new ScheduledThreadPoolExecutor(1);
    private static TestServer server;

    @BeforeAll
    static void start() {
        TIMERS.setRemoveOnCancelPolicy(true);
        server = TestServer.start(TestServer.options().maxPendingAcks(MAX_PENDING).scheduler(TIMERS).build(),
                sb -> sb.onConnection(socket -> {
                    socket.on("echo", event -> event.ack(event.args().list().toArray()));
                    SOCKETS.add(socket);
                }));
    }

    @AfterAll
    static void stop() {
        server.close();
        TIMERS.shutdownNow();
    }

    private static Socket connect(RawClient client) throws InterruptedException {
        client.connectNamespace("/", null);
        return SOCKETS.poll(10, TimeUnit.SECONDS);
    }

    @Test
    void madeUpRepeatedAndFloodedAcksAreIgnoredAndCounted() throws Exception {
        try (RawClient client = server.raw()) {
            Socket socket = connect(client);
            CompletableFuture<Arguments> asked = socket.timeout(Duration.ofSeconds(10)).emitWithAck("question");
            JsonObject question = client.next("event");
            long id = question.getJsonNumber("ack").longValue();
            long before = server.switchboard().metrics().unknownAcks();

            client.send("{\"type\":\"ack\",\"ack\":" + id + ",\"args\":[\"first\"]}");
            client.send("{\"type\":\"ack\",\"ack\":" + id + ",\"args\":[\"again\"]}");
            for (int i = 0; i < 10_000; i++) {
                client.send("{\"type\":\"ack\",\"ack\":" + (1_000_000 + i) + ",\"args\":[]}");
            }
            client.sendJson("{'type':'event','event':'echo','args':['after'],'ack':1}");
            assertEquals("after", client.next("ack").getJsonArray("args").getString(0));

            assertEquals("first", asked.get(10, TimeUnit.SECONDS).get(0, String.class));
            assertEquals(before + 10_001, server.switchboard().metrics().unknownAcks());
            assertEquals(0, socket.pendingAckCount());
        }
    }

    @Test
    void pendingAcksAreBoundedAndPurgedOverAMillionEmits() throws Exception {
        try (RawClient client = server.raw()) {
            Socket socket = connect(client);
            client.discardFrames();
            int idleTimers = TIMERS.getQueue().size();
            long heapBefore = Heap.retained();
            int refusedAtOnce = 0;
            int maxPending = 0;
            CompletableFuture<Arguments> last = null;
            for (int i = 0; i < 1_000_000; i++) {
                CompletableFuture<Arguments> reply = socket.timeout(Duration.ofMillis(20)).emitWithAck("never-answered", i);
                if (reply.isCompletedExceptionally()) {
                    refusedAtOnce++;
                } else {
                    last = reply;
                }
                maxPending = Math.max(maxPending, socket.pendingAckCount());
            }
            assertTrue(maxPending <= MAX_PENDING, "pending acks peaked at " + maxPending);
            assertTrue(refusedAtOnce > 0, "past the bound, emits with ack fail at once");
            CompletableFuture<Arguments> lastAccepted = last;
            ExecutionException timedOut = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> lastAccepted.get(10, TimeUnit.SECONDS));
            assertInstanceOf(AckTimeoutException.class, timedOut.getCause());
            Await.until("every timed-out ack purged", () -> socket.pendingAckCount() == 0);
            Await.until("no ack timer left waiting", () -> TIMERS.getQueue().size() == idleTimers);
            long left = Heap.retained() - heapBefore;
            System.out.println("figure: 1 000 000 emitWithAck to a client that never answers: pending acks peaked at "
                    + maxPending + ", " + refusedAtOnce + " refused at once, heap " + Heap.change(left)
                    + " from the level before (client and server share this JVM)");
            assertTrue(left < RETAINED_BOUND, left + " bytes retained");
            assertTrue(socket.connected());
        }
    }
}
