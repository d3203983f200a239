package dev.switchboard.transport.grizzly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.server.Socket;
import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The standalone server reads WebSockets on its selector threads and runs their listeners on
 * workers ({@link SplitReads}, {@link WorkerInbox}): what a client sends is handled whole and in
 * order, its close after it, and a client that sends faster than its listeners run is no longer
 * read until they catch up.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class SplitReadsTest {
    private static final String PAD = "x".repeat(1000);

    private static byte[] event(int n, String pad) {
        String json = "{\"type\":\"event\",\"event\":\"n\",\"args\":[" + n + ",\"" + pad + "\"]}";
        return RawTcp.frame(0x81, json.getBytes(StandardCharsets.UTF_8));
    }

    private static RawTcp connect(TestServer server) throws IOException {
        RawTcp tcp = RawTcp.upgrade(server.port(), "/switchboard");
        tcp.write(RawTcp.frame(0x81, "{\"type\":\"connect\"}".getBytes(StandardCharsets.UTF_8)));
        return tcp;
    }

    @Test
    void aClientThatSendsFasterThanItsListenerRunsIsNotReadUntilItCatchesUpAndLosesNothing() throws Exception {
        int events = 40_000;   // 40 MB: far more than the kernel's socket buffers hold
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> handled = Collections.synchronizedList(new ArrayList<>());
        try (TestServer server = TestServer.start(TestServer.options().eventRate(1_000_000, 1_000_000).build(), sb ->
                sb.onConnection(socket -> socket.on("n", event -> {
                    release.await();
                    handled.add(event.args().get(0, Integer.class));
                })));
             RawTcp client = connect(server)) {
            AtomicLong sent = new AtomicLong();
            CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
                try {
                    for (int n = 0; n < events; n += 100) {
                        ByteArrayOutputStream batch = new ByteArrayOutputStream();
                        for (int i = n; i < n + 100; i++) {
                            batch.writeBytes(event(i, PAD));
                        }
                        client.write(batch.toByteArray());
                        sent.addAndGet(100);
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            long before;
            do {
                before = sent.get();
                TimeUnit.MILLISECONDS.sleep(1000);
            } while (sent.get() != before && !sending.isDone());
            assertTrue(sent.get() < events, "the server kept reading: all " + events + " events were taken while its listener was blocked");
            System.out.println("figure: " + sent.get() + " of " + events + " 1-KB events written while the listener was blocked");

            release.countDown();
            sending.get(30, TimeUnit.SECONDS);
            Await.until("every event handled", () -> handled.size() == events);
            assertEquals(IntStream.range(0, events).boxed().toList(), List.copyOf(handled));
        }
    }

    @Test
    void aListenerThatBlocksHoldsUpNoOtherConnectionOfItsSelectorThread() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (TestServer server = TestServer.start(TestServer.options().build(), sb ->
                sb.onConnection(socket -> {
                    socket.on("block", event -> release.await());
                    socket.on("echo", event -> event.ack(event.args().get(0, String.class)));
                }));
             RawClient blocked = RawClient.connect(server.webSocketUri())) {
            blocked.connectNamespace("/", null);
            blocked.sendJson("{'type':'event','event':'block','args':[]}");
            // More clients than selector threads: some share the blocked client's.
            int others = 4 * Runtime.getRuntime().availableProcessors();
            for (int i = 0; i < others; i++) {
                try (RawClient client = RawClient.connect(server.webSocketUri())) {
                    client.connectNamespace("/", null);
                    client.sendJson("{'type':'event','event':'echo','args':['" + i + "'],'ack':1}");
                    assertEquals(String.valueOf(i), client.next("ack").getJsonArray("args").getString(0));
                }
            }
            release.countDown();
        }
    }

    @Test
    void whatAClientSentBeforeItsConnectionEndedIsHandledBeforeTheDisconnect() throws Exception {
        assertHandledBeforeTheDisconnect(TestServer.options(), socket -> { }, server -> { });
    }

    @Test
    void aSendThatFailsBecauseTheClientLeftEndsTheConnectionOnlyAfterWhatTheClientSentBefore() throws Exception {
        int chunks = 32;   // 32 MB: more than the kernel's buffers on both ends take from a client that reads nothing
        String chunk = "y".repeat(1 << 20);
        assertHandledBeforeTheDisconnect(TestServer.options().sendQueueBytes(64L << 20).sendBudgetBytes(64L << 20),
                socket -> {
                    for (int i = 0; i < chunks; i++) {
                        socket.emit("big", chunk);
                    }
                },
                // Until a write waits in Grizzly's queue: the client's end fails it.
                server -> {
                    long queued;
                    do {
                        queued = server.switchboard().metrics().queuedBytes();
                        TimeUnit.MILLISECONDS.sleep(100);
                    } while (queued == 0 || queued != server.switchboard().metrics().queuedBytes());
                });
    }

    private interface ServerStep {
        void run(TestServer server) throws Exception;
    }

    /**
     * A client sends 200 events at once and ends its connection; its listener is slower than it
     * sends, so its end reaches the server while most events wait. Every one is handled before the
     * disconnect, which says the transport closed.
     */
    private static void assertHandledBeforeTheDisconnect(SwitchboardOptions.Builder options, Consumer<Socket> atConnect,
                                                         ServerStep beforeInput) throws Exception {
        int events = 200;
        List<Integer> handled = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Integer> handledAtDisconnect = new CompletableFuture<>();
        CompletableFuture<DisconnectReason> reason = new CompletableFuture<>();
        try (TestServer server = TestServer.start(options.eventRate(1_000_000, 1_000_000).build(), sb ->
                sb.onConnection(socket -> {
                    socket.on("n", event -> {
                        TimeUnit.MILLISECONDS.sleep(2);
                        handled.add(event.args().get(0, Integer.class));
                    });
                    socket.onDisconnect(why -> {
                        handledAtDisconnect.complete(handled.size());
                        reason.complete(why);
                    });
                    atConnect.accept(socket);
                }));
             RawTcp client = connect(server)) {
            beforeInput.run(server);
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (int n = 0; n < events; n++) {
                all.writeBytes(event(n, "x"));
            }
            client.write(all.toByteArray());
            client.endOutput();
            assertEquals(events, handledAtDisconnect.get(30, TimeUnit.SECONDS));
            assertEquals(DisconnectReason.TRANSPORT_CLOSE, reason.get());
            assertEquals(IntStream.range(0, events).boxed().toList(), List.copyOf(handled));
        }
    }
}
