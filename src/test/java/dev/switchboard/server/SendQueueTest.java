package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.server.Connection;
import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.server.Socket;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One writer per connection: concurrent emits never overlap on the wire, and a client that stops
 * reading is cut off without slowing anyone else down.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class SendQueueTest {

    @Test
    void concurrentEmitsToOneSocketAllArriveInEachSendersOrder() throws Exception {
        int threads = 8;
        int perThread = 500;
        BlockingQueue<Socket> sockets = new LinkedBlockingQueue<>();
        try (TestServer server = TestServer.start(sb -> sb.onConnection(sockets::add));
             RawClient client = server.raw()) {
            client.connectNamespace("/", null);
            Socket socket = sockets.poll(10, TimeUnit.SECONDS);
            assertNotNull(socket);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch go = new CountDownLatch(1);
            for (int t = 0; t < threads; t++) {
                int sender = t;
                pool.execute(() -> {
                    awaitQuietly(go);
                    for (int i = 0; i < perThread; i++) {
                        socket.emit("tick", sender, i);
                    }
                });
            }
            go.countDown();
            int[] next = new int[threads];
            for (int received = 0; received < threads * perThread; received++) {
                JsonArray args = client.next("event").getJsonArray("args");
                int sender = args.getInt(0);
                assertEquals(next[sender], args.getInt(1), "sender " + sender + " out of order");
                next[sender]++;
            }
            pool.shutdown();
            assertTrue(socket.connected());
            assertEquals(0, server.switchboard().metrics().slowConsumers());
        }
    }

    @Test
    void clientThatNeverReadsIsCutOffWhileOthersKeepReceiving() throws Exception {
        int frames = 2000;
        long queueBound = 256 * 1024;
        BlockingQueue<DisconnectReason> reasons = new LinkedBlockingQueue<>();
        Consumer<Socket> joinFeed = socket -> {
            socket.join("feed");
            socket.onDisconnect(reasons::add);
        };
        try (TestServer server = TestServer.start(TestServer.options().sendQueueBytes(queueBound).build(),
                sb -> sb.onConnection(joinFeed))) {
            List<RawClient> readers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                readers.add(server.raw());
                readers.get(i).connectNamespace("/", null);
            }
            RawClient stalled = server.raw();
            stalled.connectNamespace("/", null);
            stalled.stopReading();
            // Not the sockets being registered: that happens before the connect answer, and the
            // connection listener joins the room only after it.
            Await.until("3 sockets in the feed", () -> server.switchboard().to("feed").count().join() == 3);

            String payload = "p".repeat(16 * 1024);
            // Paced by the readers, so that only the one that never reads can fall behind: the
            // readers are at most 8 frames (128 KiB) behind, well inside their 256 KiB queues.
            int before = readers.get(0).framesReceived();
            AtomicLong largestQueue = new AtomicLong();
            Thread broadcaster = new Thread(() -> {
                for (int i = 0; i < frames; i++) {
                    while (slowest(readers) - before < i - 8) {
                        Thread.onSpinWait();
                    }
                    server.switchboard().to("feed").emit("chunk", i, payload);
                    // Measured after every emit, so the fullest the queue gets before it overflows is seen.
                    for (Connection connection : server.switchboard().connections()) {
                        largestQueue.accumulateAndGet(connection.queuedBytes(), Math::max);
                    }
                }
            });
            broadcaster.setDaemon(true);
            broadcaster.start();

            for (RawClient reader : readers) {
                for (int i = 0; i < frames; i++) {
                    JsonObject packet = reader.next("event");
                    assertEquals(i, packet.getJsonArray("args").getInt(0));
                }
            }
            broadcaster.join(30_000);
            assertEquals(DisconnectReason.SLOW_CONSUMER, reasons.poll(10, TimeUnit.SECONDS));
            System.out.println("figure: slow consumer: largest send queue after any emit " + largestQueue.get() / 1024
                    + " KiB (bound " + queueBound / 1024 + " KiB) while 2 readers got all " + frames + " frames of 16 KiB");
            assertTrue(largestQueue.get() <= queueBound, "queued " + largestQueue.get() + " bytes");
            assertTrue(largestQueue.get() > queueBound / 2, "the queue filled up before the eviction");
            assertEquals(2, server.switchboard().root().sockets().size());
            for (RawClient reader : readers) {
                reader.close();
            }
            stalled.abort();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int slowest(List<RawClient> readers) {
        return readers.stream().mapToInt(RawClient::framesReceived).min().orElse(0);
    }
}
