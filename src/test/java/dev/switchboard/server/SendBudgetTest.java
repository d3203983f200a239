package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.server.Connection;
import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.server.Socket;
import dev.switchboard.server.Switchboard;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The server-wide bound on queued bytes: clients that stop reading may each stay inside their
 * own queue's bound and still, together, exceed the server's; then the largest queues are cut
 * first, and clients that read are not touched.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class SendBudgetTest {
    private static final long QUEUE_BOUND = 2 << 20;
    private static final long SERVER_BOUND = 3 << 20;
    private static final String CHUNK = "p".repeat(16 * 1024);
    /** Per stalled client, far more than its own queue and the kernel's buffers hold. */
    private static final int MAX_FRAMES = 4000;

    private record Cut(String socketId, DisconnectReason reason) {
    }

    @Test
    void stalledClientsTogetherPastTheServerBoundAreCutLargestFirstWhileReadersGetEverything() throws Exception {
        BlockingQueue<Socket> connected = new LinkedBlockingQueue<>();
        BlockingQueue<Cut> cuts = new LinkedBlockingQueue<>();
        try (TestServer server = TestServer.start(TestServer.options().sendQueueBytes(QUEUE_BOUND)
                .sendBudgetBytes(SERVER_BOUND).build(), sb -> sb.onConnection(socket -> {
                    socket.join("feed");
                    socket.onDisconnect(reason -> cuts.add(new Cut(socket.id(), reason)));
                    connected.add(socket);
                }))) {
            Switchboard switchboard = server.switchboard();
            List<RawClient> readers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                readers.add(server.raw());
                readers.get(i).connectNamespace("/", null);
                connected.take();
            }
            // The first stalled client also gets a stream of its own, so that its queue is the largest.
            RawClient first = server.raw();
            first.connectNamespace("/", null);
            Socket firstSocket = connected.poll(10, TimeUnit.SECONDS);
            assertNotNull(firstSocket);
            firstSocket.join("extra");
            first.stopReading();
            long maxTotal = 0;
            for (int i = 0; i < MAX_FRAMES && totalQueued(switchboard) < SERVER_BOUND / 2; i++) {
                switchboard.to("extra").emit("chunk", -1, CHUNK);
                maxTotal = Math.max(maxTotal, totalQueued(switchboard));
            }
            assertTrue(totalQueued(switchboard) >= SERVER_BOUND / 2, "the first stalled client's queue filled up");
            List<RawClient> stalled = List.of(server.raw(), server.raw());
            for (RawClient client : stalled) {
                client.connectNamespace("/", null);
                client.stopReading();
                connected.take();
            }

            // Paced by the readers: they are at most 8 frames (128 KiB) behind.
            int before = slowest(readers);
            int sent = 0;
            while (cuts.size() < 3 && sent < MAX_FRAMES) {
                while (slowest(readers) - before < sent - 8) {
                    Thread.onSpinWait();
                }
                switchboard.to("feed").emit("chunk", sent++, CHUNK);
                maxTotal = Math.max(maxTotal, totalQueued(switchboard));
            }
            for (RawClient reader : readers) {
                for (int i = 0; i < sent; i++) {
                    assertEquals(i, reader.next(packet -> packet.getJsonArray("args").getInt(0) >= 0)
                            .getJsonArray("args").getInt(0));
                }
            }

            Cut firstCut = cuts.poll(10, TimeUnit.SECONDS);
            assertNotNull(firstCut, "nobody was cut off");
            assertEquals(new Cut(firstSocket.id(), DisconnectReason.SLOW_CONSUMER), firstCut);
            System.out.println("figure: send budget: most queued on the server after any emit " + maxTotal / 1024
                    + " KiB (bound " + SERVER_BOUND / 1024 + " KiB, per queue " + QUEUE_BOUND / 1024 + " KiB); "
                    + sent + " frames of 16 KiB to 2 readers, all received");
            // A client with nothing waiting takes its next frame whatever the budget: one frame per connection over.
            assertTrue(maxTotal <= SERVER_BOUND + 5L * (CHUNK.length() + 64), "queued " + maxTotal + " bytes in all");
            assertEquals(2, switchboard.root().sockets().size(), "the readers are still connected");
            assertTrue(switchboard.metrics().slowConsumers() >= 1);
            for (RawClient reader : readers) {
                reader.close();
            }
            for (RawClient client : stalled) {
                client.abort();
            }
        }
    }

    @Test
    void aBroadcastLargerThanTheBudgetReachesClientsThatKeepUpAndCutsNobody() throws Exception {
        int readers = 6;
        BlockingQueue<Cut> cuts = new LinkedBlockingQueue<>();
        BlockingQueue<Socket> connected = new LinkedBlockingQueue<>();
        try (TestServer server = TestServer.start(TestServer.options().sendQueueBytes(8 << 20).sendBudgetBytes(4 << 20).build(),
                sb -> sb.onConnection(socket -> {
                    socket.onDisconnect(reason -> cuts.add(new Cut(socket.id(), reason)));
                    connected.add(socket);
                }))) {
            List<RawClient> clients = new ArrayList<>();
            for (int i = 0; i < readers; i++) {
                clients.add(server.raw());
                clients.get(i).connectNamespace("/", null);
                connected.take();
            }
            // Six times 3 MiB is four and a half times the budget, but the frame is the first in every
            // queue, and more than the kernel takes at once: it is still in flight at the next offer.
            int size = 3 << 20;
            server.switchboard().emit("big", "b".repeat(size));
            for (RawClient client : clients) {
                assertEquals(size, client.next("event").getJsonArray("args").getString(0).length());
            }
            assertTrue(cuts.isEmpty(), "cut off: " + cuts);
            assertEquals(readers, server.switchboard().root().sockets().size());
            for (RawClient client : clients) {
                client.close();
            }
        }
    }

    private static long totalQueued(Switchboard switchboard) {
        return switchboard.connections().stream().mapToLong(Connection::queuedBytes).sum();
    }

    private static int slowest(List<RawClient> readers) {
        return readers.stream().mapToInt(RawClient::framesReceived).min().orElse(0);
    }
}
