package dev.switchboard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.Arguments;
import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.PausableServer;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the Java client holds back and how it lets it go: emits made offline wait in a bounded
 * buffer, and every event leaves within the rate limit the server announced, so that the flush
 * after an outage does not get the session closed for flooding.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class SendBufferTest {
    private final List<Integer> notes = new CopyOnWriteArrayList<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();

    private TestServer noteTaker(SwitchboardOptions options) {
        return TestServer.start(options, sb -> sb.onConnection(socket ->
                socket.on("note", event -> notes.add(event.arg(0, int.class)))));
    }

    private static ClientOptions.Builder fastReconnect() {
        return ClientOptions.builder().reconnectionDelay(Duration.ofMillis(50)).reconnectionDelayMax(Duration.ofMillis(200));
    }

    private ClientSocket socket(SwitchboardClient client) throws Exception {
        ClientSocket socket = client.socket();
        socket.onError(error -> errors.add(error.stringField("code")));
        socket.whenConnected().get(10, TimeUnit.SECONDS);
        return socket;
    }

    private void awaitNotes(int count) {
        Await.until(count + " notes", () -> notes.size() >= count);
    }

    private static List<Integer> upTo(int count) {
        List<Integer> numbers = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            numbers.add(i);
        }
        return numbers;
    }

    @Test
    void aThousandEmitsMadeDuringAnOutageArriveInOrderOnceEachAndTheSessionIsKept() throws Exception {
        // A higher rate than the default keeps the test short; pacing is what matters, not the rate.
        SwitchboardOptions options = TestServer.options().eventRate(500, 400).build();
        try (TestServer server = noteTaker(options);
             CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(), fastReconnect().build())) {
            BlockingQueue<String> lifecycle = new LinkedBlockingQueue<>();
            BlockingQueue<Integer> missed = new LinkedBlockingQueue<>();
            ClientSocket socket = socket(client);
            socket.onConnect(() -> lifecycle.add(socket.recovered() ? "recovered" : "fresh"));
            socket.onDisconnect(reason -> lifecycle.add("disconnect"));
            socket.on("seq", event -> missed.add(event.arg(0, int.class)));
            String id = socket.id();

            network.refuse(true);
            network.cut();
            assertEquals("disconnect", lifecycle.poll(10, TimeUnit.SECONDS));
            for (int i = 0; i < 1000; i++) {
                socket.emit("note", i);
            }
            for (int i = 0; i < 50; i++) {
                server.switchboard().to(id).emit("seq", i);
            }
            network.refuse(false);

            assertEquals("recovered", lifecycle.poll(10, TimeUnit.SECONDS));
            awaitNotes(1000);
            assertEquals(upTo(1000), notes, "every offline emit once, in order");
            assertEquals(id, socket.id());
            assertTrue(socket.connected(), "the session was not closed for flooding");
            assertTrue(lifecycle.isEmpty(), "no further drop: " + lifecycle);
            assertEquals(List.of(), errors, "nothing was refused");
            // Dispatched on the client's own thread, apart from the notes the server counted: wait for each.
            List<Integer> replayed = new ArrayList<>();
            for (Integer seq = missed.poll(10, TimeUnit.SECONDS); seq != null; seq = replayed.size() < 50
                    ? missed.poll(10, TimeUnit.SECONDS) : missed.poll()) {
                replayed.add(seq);
            }
            assertEquals(upTo(50), replayed, "and what the server sent meanwhile came too");
        }
    }

    @Test
    void afterAFailedRecoveryTheRetriedEmitInFlightFailsAndTheManyWaitingReachTheNewSessionOnce() throws Exception {
        List<Integer> paid = new CopyOnWriteArrayList<>();
        AtomicBoolean answering = new AtomicBoolean();
        BlockingQueue<String> expired = new LinkedBlockingQueue<>();
        SwitchboardOptions options = TestServer.options().recoveryLimits(5, 1 << 20).build();
        try (TestServer server = TestServer.start(options, sb -> {
            sb.root().onSessionExpired(session -> expired.add(session.id()));
            sb.onConnection(socket -> socket.on("pay", event -> {
                paid.add(event.arg(0, int.class));
                if (answering.get()) {
                    event.ack("paid");
                }
            }));
        });
             CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(),
                     fastReconnect().retries(3).ackTimeout(Duration.ofSeconds(5)).build())) {
            BlockingQueue<String> lifecycle = new LinkedBlockingQueue<>();
            ClientSocket socket = socket(client);
            socket.onDisconnect(reason -> lifecycle.add("disconnect"));
            String id = socket.id();
            CompletableFuture<Arguments> inFlight = socket.emitWithAck("pay", -1);
            Await.until("the first payment", () -> !paid.isEmpty());

            // A long outage: the session ends while 200 retried emits wait to be sent.
            network.refuse(true);
            network.cut();
            assertEquals("disconnect", lifecycle.poll(10, TimeUnit.SECONDS));
            List<CompletableFuture<Arguments>> waiting = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                waiting.add(socket.emitWithAck("pay", i));
            }
            // The connection leaves the count before its socket ends; the session must be waiting.
            Await.until("the session waiting", () -> server.switchboard().root().detachedSessions().containsKey(id));
            for (int i = 0; i < 10; i++) {
                server.switchboard().to(id).emit("seq", i);
            }
            assertEquals(id, expired.poll(10, TimeUnit.SECONDS));
            answering.set(true);
            network.refuse(false);

            ExecutionException lost = assertThrows(ExecutionException.class, () -> inFlight.get(10, TimeUnit.SECONDS));
            assertTrue(lost.getCause() instanceof SessionLostException, lost.toString());
            assertTrue(lost.getCause().getMessage().contains("may or may not have handled it"), lost.toString());
            for (CompletableFuture<Arguments> reply : waiting) {
                assertEquals("paid", reply.get(10, TimeUnit.SECONDS).get(0, String.class));
            }
            List<Integer> expected = new ArrayList<>(List.of(-1));
            expected.addAll(upTo(200));
            assertEquals(expected, paid, "the one sent into the lost session ran once; the others once each, in order");
            assertTrue(!socket.recovered());
        }
    }

    @Test
    void aBurstOfEmitsKeepsWithinTheDefaultRateLimit() throws Exception {
        try (TestServer server = noteTaker(TestServer.options().build());
             SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri())) {
            ClientSocket socket = socket(client);
            for (int i = 0; i < 300; i++) {
                socket.emit("note", i);
            }
            awaitNotes(300);
            assertEquals(upTo(300), notes, "300 emits at once, past the burst of 200: none refused");
            assertEquals(List.of(), errors);
        }
    }

    @Test
    void anEmitBeyondTheBoundIsRefusedAndTheBufferedOnesAreStillSent() throws Exception {
        try (TestServer server = noteTaker(TestServer.options().build());
             CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(),
                     fastReconnect().maxBufferedEmits(3).build())) {
            BlockingQueue<String> lifecycle = new LinkedBlockingQueue<>();
            ClientSocket socket = socket(client);
            socket.onDisconnect(reason -> lifecycle.add("disconnect"));

            network.refuse(true);
            network.cut();
            assertEquals("disconnect", lifecycle.poll(10, TimeUnit.SECONDS));
            for (int i = 0; i < 3; i++) {
                socket.emit("note", i);
            }
            SendBufferFullException full = assertThrows(SendBufferFullException.class, () -> socket.emit("note", 3));
            assertEquals("the send buffer is full: 3 emits are waiting to be sent or acknowledged", full.getMessage());
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> socket.emitWithAck("note", 4).get(10, TimeUnit.SECONDS));
            assertTrue(refused.getCause() instanceof SendBufferFullException, refused.toString());
            network.refuse(false);

            socket.whenConnected().get(10, TimeUnit.SECONDS);
            socket.emit("note", 5);
            awaitNotes(4);
            assertEquals(List.of(0, 1, 2, 5), notes, "the buffered emits kept their place; the refused ones never left");
        }
    }

    @Test
    void aServerThatStopsReadingFillsTheBoundedQueueAndBufferThenEmitsAreRefusedAndNothingAcceptedIsLost() throws Exception {
        String padding = "x".repeat(16 * 1024);
        int queueBytes = 64 * 1024;
        try (PausableServer server = PausableServer.start(1_000_000, 1_000_000);
             SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(), ClientOptions.builder()
                     .sendQueueBytes(queueBytes).maxBufferedEmits(50).build())) {
            ClientSocket socket = socket(client);
            server.pause();
            // The kernel's socket buffers take some megabytes first; past them, only the queue's
            // 64 KiB and the buffer's 50 emits. An unbounded writer would take all 80 MiB.
            List<CompletableFuture<Arguments>> accepted = new ArrayList<>();
            CompletableFuture<Arguments> refused = null;
            for (int i = 0; i < 5000 && refused == null; i++) {
                CompletableFuture<Arguments> reply = socket.timeout(Duration.ofSeconds(60)).emitWithAck("tick", i, padding);
                if (reply.isCompletedExceptionally()) {
                    refused = reply;
                } else {
                    accepted.add(reply);
                }
            }
            assertTrue(refused != null, "all 5000 emits of 16 KiB were taken while the server read nothing");
            System.out.println("figure: a frozen server; the client refused emit " + (accepted.size() + 1)
                    + " of 16 KiB (the kernel's buffers, then the 64 KiB queue and 50 buffered)");
            CompletableFuture<Arguments> full = refused;
            ExecutionException failure = assertThrows(ExecutionException.class, () -> full.get(1, TimeUnit.SECONDS));
            assertTrue(failure.getCause() instanceof SendBufferFullException, failure.toString());
            assertThrows(SendBufferFullException.class, () -> socket.emit("tick", -1, padding));
            assertTrue(socket.connected(), "a full queue is not a reason to drop the connection");

            server.resume();
            for (int i = 0; i < accepted.size(); i++) {
                assertEquals(i, accepted.get(i).get(30, TimeUnit.SECONDS).get(0, int.class), "every accepted emit answered");
            }
        }
    }
}
