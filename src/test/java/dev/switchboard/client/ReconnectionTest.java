package dev.switchboard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.server.ConnectionRejectedException;
import dev.switchboard.server.Socket;
import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Java client survives the network: it reconnects by itself, recovers its session with
 * everything it missed, sends what was emitted offline, and retried emits are handled once.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ReconnectionTest {
    private static ClientOptions fastReconnect() {
        return ClientOptions.builder().reconnectionDelay(Duration.ofMillis(50))
                .reconnectionDelayMax(Duration.ofMillis(200)).build();
    }

    @Test
    void droppedClientReconnectsRecoversAndSendsWhatItEmittedOffline() throws Exception {
        List<Integer> notes = new CopyOnWriteArrayList<>();
        BlockingQueue<Socket> sockets = new LinkedBlockingQueue<>();
        try (TestServer server = TestServer.start(sb -> sb.onConnection(socket -> {
            socket.join("feed");
            socket.on("note", event -> notes.add(event.arg(0, int.class)));
            sockets.add(socket);
        }));
             CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(),
                     fastReconnect().toBuilder().autoConnect(false).build())) {
            BlockingQueue<Integer> received = new LinkedBlockingQueue<>();
            BlockingQueue<String> lifecycle = new LinkedBlockingQueue<>();
            ClientSocket socket = client.socket();
            socket.on("seq", event -> received.add(event.arg(0, int.class)));
            socket.onDisconnect(reason -> lifecycle.add("disconnect:" + reason));
            client.onReconnect(attempt -> lifecycle.add("reconnect"));
            socket.connect();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            String id = socket.id();
            sockets.take();

            for (int i = 0; i < 50; i++) {
                server.switchboard().to("feed").emit("seq", i);
            }
            network.refuse(true);
            network.cut();
            assertTrue(lifecycle.poll(10, TimeUnit.SECONDS).startsWith("disconnect:transport"));
            for (int i = 50; i < 100; i++) {
                server.switchboard().to("feed").emit("seq", i);
            }
            for (int i = 0; i < 5; i++) {
                socket.emit("note", i);
            }
            network.refuse(false);

            assertEquals("reconnect", lifecycle.poll(10, TimeUnit.SECONDS));
            List<Integer> all = new ArrayList<>();
            while (all.size() < 100) {
                Integer next = received.poll(10, TimeUnit.SECONDS);
                assertTrue(next != null, "missing events after " + all);
                all.add(next);
            }
            for (int i = 0; i < 100; i++) {
                assertEquals(i, all.get(i));
            }
            assertTrue(socket.recovered());
            assertEquals(id, socket.id());
            Await.until("5 notes", () -> notes.size() >= 5);
            assertEquals(List.of(0, 1, 2, 3, 4), notes);
        }
    }

    @Test
    void retriedEmitReachesTheHandlerOnce() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        try (TestServer server = TestServer.start(sb -> sb.onConnection(socket -> socket.on("pay", event -> {
            if (handled.incrementAndGet() == 1) {
                Thread.sleep(600);
            }
            event.ack("paid " + event.arg(0, int.class));
        })));
             SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(),
                     // Resent every 200 ms while the first handling takes 600 ms, and for long enough
                     // that a slow machine still answers before the client gives up (4 sends were 800 ms).
                     ClientOptions.builder().retries(25).ackTimeout(Duration.ofMillis(200)).build())) {
            ClientSocket socket = client.socket();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            socket.emitWithAck("pay", 10).get(10, TimeUnit.SECONDS);
            assertEquals("paid 11", socket.emitWithAck("pay", 11).get(10, TimeUnit.SECONDS).get(0, String.class));
            assertEquals(2, handled.get(), "each message handled once, however often it was sent");
        }
    }

    @Test
    void clientNoticesASilentServerByItsMissingPings() throws Exception {
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1);
        SwitchboardOptions options = TestServer.options().scheduler(timers)
                .pingInterval(Duration.ofMillis(200)).pingTimeout(Duration.ofMillis(1000)).build();
        try (TestServer server = TestServer.start(options, sb -> { });
             SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(),
                     ClientOptions.builder().reconnection(false).build())) {
            BlockingQueue<String> reasons = new LinkedBlockingQueue<>();
            ClientSocket socket = connectedTellingWhyItEnds(client, reasons);
            Thread.sleep(1500);
            assertTrue(socket.connected(), "pings keep a healthy connection open past the watchdog's 1.2 s");
            timers.shutdownNow();
            assertEquals("ping timeout", reasons.poll(10, TimeUnit.SECONDS));
        }
    }

    /** The client's main socket once connected; the reasons it disconnects for go to {@code reasons}. */
    private static ClientSocket connectedTellingWhyItEnds(SwitchboardClient client, BlockingQueue<String> reasons)
            throws Exception {
        ClientSocket socket = client.socket();
        socket.onDisconnect(reasons::add);
        socket.whenConnected().get(10, TimeUnit.SECONDS);
        return socket;
    }

    /** As the browser client does: a close code that names a reason of the server's set on its own is read as that reason. */
    @Test
    void aServerShuttingDownIsToldApartFromALostConnection() throws Exception {
        try (TestServer server = TestServer.start(sb -> { });
             SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(),
                     ClientOptions.builder().reconnection(false).build())) {
            BlockingQueue<String> reasons = new LinkedBlockingQueue<>();
            connectedTellingWhyItEnds(client, reasons);
            server.switchboard().shutdown(Duration.ofSeconds(5));
            assertEquals("server shutting down", reasons.poll(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void retryWhileTheHandlerIsStillWorkingGetsTheHandlersAnswer() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        ScheduledThreadPoolExecutor worker = new ScheduledThreadPoolExecutor(1);
        try (TestServer server = TestServer.start(sb -> sb.onConnection(socket -> socket.on("pay", event -> {
            handled.incrementAndGet();
            // Answers later, from another thread, while the client keeps retrying.
            worker.schedule(() -> event.ack("paid " + event.arg(0, int.class)), 300, TimeUnit.MILLISECONDS);
        })));
             SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(),
                     ClientOptions.builder().retries(20).ackTimeout(Duration.ofMillis(100)).build())) {
            ClientSocket socket = client.socket();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            assertEquals("paid 10", socket.emitWithAck("pay", 10).get(10, TimeUnit.SECONDS).get(0, String.class));
            assertEquals(1, handled.get());
        } finally {
            worker.shutdownNow();
        }
    }

    @Test
    void aFreshSessionAfterAFailedRecoveryCanItselfBeRecovered() throws Exception {
        BlockingQueue<String> expired = new LinkedBlockingQueue<>();
        SwitchboardOptions options = TestServer.options().recoveryLimits(5, 1 << 20).build();
        try (TestServer server = TestServer.start(options, sb -> sb.root().onSessionExpired(s -> expired.add(s.id())));
             CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(), fastReconnect())) {
            BlockingQueue<String> connects = new LinkedBlockingQueue<>();
            BlockingQueue<Integer> received = new LinkedBlockingQueue<>();
            ClientSocket socket = client.socket();
            socket.onConnect(() -> connects.add(socket.id() + (socket.recovered() ? " recovered" : " fresh")));
            socket.on("seq", event -> received.add(event.arg(0, int.class)));
            String first = connects.poll(10, TimeUnit.SECONDS);
            String firstId = first.split(" ")[0];
            server.switchboard().to(firstId).emit("seq", 0);
            assertEquals(0, received.poll(10, TimeUnit.SECONDS));

            // Away for longer than the session can log: it ends, and the client is told so.
            network.refuse(true);
            network.cut();
            awaitNoConnections(server);
            for (int i = 1; i <= 10; i++) {
                server.switchboard().to(firstId).emit("seq", i);
            }
            assertEquals(firstId, expired.poll(10, TimeUnit.SECONDS));
            network.refuse(false);
            String second = connects.poll(10, TimeUnit.SECONDS);
            assertTrue(second.endsWith(" fresh"), second);
            String secondId = second.split(" ")[0];
            assertTrue(!secondId.equals(firstId), "a fresh session has a new id");

            // The fresh session recovers after the next drop, though no event reached it yet.
            network.cut();
            assertEquals(secondId + " recovered", connects.poll(10, TimeUnit.SECONDS));
            assertTrue(received.isEmpty(), "nothing of the ended session is replayed: " + received);
        }
    }

    @Test
    void disconnectingTheLastSocketClosesTheConnectionAndStopsReconnecting() throws Exception {
        try (TestServer server = TestServer.start(sb -> { });
             SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(), fastReconnect())) {
            AtomicInteger attempts = new AtomicInteger();
            client.onReconnectAttempt(attempt -> attempts.incrementAndGet());
            ClientSocket socket = client.socket();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            assertEquals(1, server.switchboard().connectionCount());

            socket.disconnect();
            awaitNoConnections(server);
            Thread.sleep(500); // several reconnection delays
            assertEquals(0, server.switchboard().connectionCount(), "nothing reopened the connection");
            assertEquals(0, attempts.get());

            socket.connect();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            assertEquals(1, server.switchboard().connectionCount());
        }
    }

    /**
     * The server kicks the client, closing its connection ({@code socket.disconnect(true)}): the
     * client is told "server disconnect", as for a namespace disconnect, and stays away, as
     * socket.io-client does after its server's {@code disconnect(true)}. The close alone read as a
     * lost connection ("transport close"), and the client came straight back with a new socket.
     */
    @Test
    void aClientKickedWithItsConnectionIsToldAndDoesNotComeBack() throws Exception {
        try (TestServer server = TestServer.start(sb -> sb.root().onConnection(socket ->
                socket.on("kick me", event -> socket.disconnect(true))));
             SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(), fastReconnect())) {
            AtomicInteger attempts = new AtomicInteger();
            client.onReconnectAttempt(attempt -> attempts.incrementAndGet());
            ClientSocket socket = client.socket();
            BlockingQueue<String> reasons = new LinkedBlockingQueue<>();
            socket.onDisconnect(reasons::add);
            socket.whenConnected().get(10, TimeUnit.SECONDS);

            socket.emit("kick me");
            assertEquals("server disconnect", reasons.poll(10, TimeUnit.SECONDS));
            awaitNoConnections(server);
            assertEquals(0, attempts.get(), "nothing to reconnect for");
            assertEquals(0, server.switchboard().root().sockets().size());
        }
    }

    @Test
    void aRefusedOnlySocketClosesTheConnectionAndNoDropBringsItBack() throws Exception {
        try (TestServer server = TestServer.start(sb -> sb.use(socket -> {
            throw new ConnectionRejectedException("invalid token");
        }));
             CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(), fastReconnect())) {
            AtomicInteger attempts = new AtomicInteger();
            client.onReconnectAttempt(attempt -> attempts.incrementAndGet());
            ClientSocket socket = client.socket();
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> socket.whenConnected().get(10, TimeUnit.SECONDS));
            assertEquals("invalid token", ((ConnectErrorException) refused.getCause()).error().message());

            awaitNoConnections(server);
            assertTrue(!client.isOpen(), "no socket wants the connection");
            network.cut();
            Thread.sleep(500); // several reconnection delays
            assertEquals(0, attempts.get(), "nothing to reconnect for");
            assertEquals(0, server.switchboard().connectionCount());
        }
    }

    @Test
    void reconnectionAttemptsAreReportedUntilTheClientGivesUp() throws Exception {
        try (TestServer server = TestServer.start(sb -> { });
             CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(),
                     fastReconnect().toBuilder().reconnectionAttempts(3).build())) {
            List<Integer> attempts = new CopyOnWriteArrayList<>();
            BlockingQueue<String> failed = new LinkedBlockingQueue<>();
            client.onReconnectAttempt(attempts::add);
            client.onReconnectFailed(() -> failed.add("reconnect_failed"));
            ClientSocket socket = client.socket();
            socket.whenConnected().get(10, TimeUnit.SECONDS);

            network.refuse(true);
            network.cut();
            assertEquals("reconnect_failed", failed.poll(10, TimeUnit.SECONDS));
            assertEquals(List.of(1, 2, 3), attempts);
            assertTrue(!socket.connected());
            ExecutionException refused = assertThrows(ExecutionException.class,
                    () -> socket.whenConnected().get(10, TimeUnit.SECONDS));
            assertTrue(refused.getCause() instanceof ConnectErrorException, refused.toString());
        }
    }

    @Test
    void volatileEmitsMadeOfflineAreDroppedOthersAreSent() throws Exception {
        List<String> notes = new CopyOnWriteArrayList<>();
        BlockingQueue<String> arrived = new LinkedBlockingQueue<>();
        try (TestServer server = TestServer.start(sb -> sb.onConnection(socket -> socket.on("note", event -> {
            notes.add(event.arg(0, String.class));
            arrived.add(event.arg(0, String.class));
        })));
             CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(), fastReconnect())) {
            BlockingQueue<String> lifecycle = new LinkedBlockingQueue<>();
            ClientSocket socket = client.socket();
            socket.onDisconnect(reason -> lifecycle.add("disconnect"));
            socket.whenConnected().get(10, TimeUnit.SECONDS);

            network.refuse(true);
            network.cut();
            assertEquals("disconnect", lifecycle.poll(10, TimeUnit.SECONDS));
            socket.asVolatile().emit("note", "cursor moved");
            socket.emit("note", "saved");
            network.refuse(false);

            assertEquals("saved", arrived.poll(10, TimeUnit.SECONDS));
            assertEquals(List.of("saved"), notes, "the volatile emit, made before, was dropped");
        }
    }

    @Test
    void aVolatileEventSeenLastBeforeADropDoesNotSpoilTheRecovery() throws Exception {
        try (TestServer server = TestServer.start(sb -> { });
             CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(), fastReconnect())) {
            BlockingQueue<String> seen = new LinkedBlockingQueue<>();
            ClientSocket socket = client.socket();
            socket.onConnect(() -> seen.add(socket.recovered() ? "recovered" : "connected"));
            socket.onDisconnect(reason -> seen.add("disconnect"));
            socket.onAny((event, args) -> seen.add(event + " " + args.get(0, String.class)));
            assertEquals("connected", seen.poll(10, TimeUnit.SECONDS));
            String id = socket.id();
            server.switchboard().to(id).emit("message", "hi");
            assertEquals("message hi", seen.poll(10, TimeUnit.SECONDS));
            // A volatile event is dropped while another frame waits in the queue: send it once that is empty.
            server.switchboard().to(id).asVolatile().emit("typing", "Maciel");
            assertEquals("typing Maciel", seen.poll(10, TimeUnit.SECONDS));

            network.refuse(true);
            network.cut();
            assertEquals("disconnect", seen.poll(10, TimeUnit.SECONDS));
            server.switchboard().to(id).emit("message", "sent while away");
            network.refuse(false);

            assertEquals("recovered", seen.poll(10, TimeUnit.SECONDS));
            assertEquals(id, socket.id());
            assertEquals("message sent while away", seen.poll(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aSilentNetworkIsNoticedByItsMissingPingsAndTheClientComesBackRecovered() throws Exception {
        SwitchboardOptions options = TestServer.options()
                .pingInterval(Duration.ofMillis(200)).pingTimeout(Duration.ofMillis(300)).build();
        try (TestServer server = TestServer.start(options, sb -> { });
             CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(), fastReconnect())) {
            BlockingQueue<String> lifecycle = new LinkedBlockingQueue<>();
            BlockingQueue<Integer> received = new LinkedBlockingQueue<>();
            ClientSocket socket = client.socket();
            socket.onDisconnect(reason -> lifecycle.add("disconnect:" + reason));
            socket.onConnect(() -> lifecycle.add(socket.recovered() ? "recovered" : "connected"));
            socket.on("seq", event -> received.add(event.arg(0, int.class)));
            assertEquals("connected", lifecycle.poll(10, TimeUnit.SECONDS));
            String id = socket.id();

            network.silence();
            for (int i = 0; i < 5; i++) {
                server.switchboard().to(id).emit("seq", i);
            }
            assertEquals("disconnect:ping timeout", lifecycle.poll(10, TimeUnit.SECONDS));
            assertEquals("recovered", lifecycle.poll(10, TimeUnit.SECONDS));
            assertEquals(id, socket.id());
            for (int i = 0; i < 5; i++) {
                assertEquals(i, received.poll(10, TimeUnit.SECONDS));
            }
            server.switchboard().to(id).emit("seq", 5);
            assertEquals(5, received.poll(10, TimeUnit.SECONDS), "each missed event once, then new ones");
        }
    }

    @Test
    void aClientBackOverANewNetworkBeforeTheServerNoticedTakesItsSessionOver() throws Exception {
        BlockingQueue<String> serverSide = new LinkedBlockingQueue<>();
        // The default heartbeat: the server would not notice the old connection die for 45 s.
        try (TestServer server = TestServer.start(sb -> sb.onConnection(socket -> {
            serverSide.add(socket.recovered() ? "recovered" : "connected");
            socket.onDisconnect(reason -> serverSide.add("disconnect:" + reason.text()));
        }));
             CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(), fastReconnect())) {
            BlockingQueue<Integer> received = new LinkedBlockingQueue<>();
            ClientSocket socket = client.socket();
            socket.on("seq", event -> received.add(event.arg(0, int.class)));
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            assertEquals("connected", serverSide.poll(10, TimeUnit.SECONDS));
            String id = socket.id();
            server.switchboard().to(id).emit("seq", 0);
            assertEquals(0, received.poll(10, TimeUnit.SECONDS));

            network.dropClientSide();
            for (int i = 1; i <= 3; i++) {
                server.switchboard().to(id).emit("seq", i);
            }
            assertEquals("disconnect:transport close", serverSide.poll(10, TimeUnit.SECONDS));
            assertEquals("recovered", serverSide.poll(10, TimeUnit.SECONDS));
            for (int i = 1; i <= 3; i++) {
                assertEquals(i, received.poll(10, TimeUnit.SECONDS));
            }
            assertTrue(socket.recovered());
            assertEquals(id, socket.id());
            assertEquals(1, server.switchboard().connectionCount(), "the dead connection was let go");
        }
    }

    @Test
    void anEmitWhoseAckWasLostInTheDropIsHandledOnceAndAnsweredAfterReconnecting() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        BlockingQueue<String> handling = new LinkedBlockingQueue<>();
        java.util.concurrent.CountDownLatch networkBroke = new java.util.concurrent.CountDownLatch(1);
        ScheduledThreadPoolExecutor worker = new ScheduledThreadPoolExecutor(1);
        try (TestServer server = TestServer.start(sb -> sb.onConnection(socket -> socket.on("pay", event -> {
            handled.incrementAndGet();
            handling.add("pay");
            // The answer leaves after the network broke (not a fixed time later, which a slow test
            // thread may not have cut by): it is lost with the old connection.
            worker.execute(() -> {
                try {
                    networkBroke.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                event.ack("paid " + event.arg(0, int.class));
            });
        })));
             CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(),
                     fastReconnect().toBuilder().retries(5).ackTimeout(Duration.ofSeconds(2)).build())) {
            ClientSocket socket = client.socket();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            var reply = socket.emitWithAck("pay", 7);
            assertEquals("pay", handling.poll(10, TimeUnit.SECONDS));
            network.cut();
            networkBroke.countDown();

            assertEquals("paid 7", reply.get(10, TimeUnit.SECONDS).get(0, String.class));
            assertTrue(socket.recovered());
            assertEquals(1, handled.get(), "resent after reconnecting, handled once");
        } finally {
            worker.shutdownNow();
        }
    }

    @Test
    void aRetryOverANewConnectionGetsTheFailureOfAHandlerThatTimedOut() throws Exception {
        BlockingQueue<String> handling = new LinkedBlockingQueue<>();
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        SwitchboardOptions options = TestServer.options().handlerTimeout(Duration.ofMillis(300)).build();
        try (TestServer server = TestServer.start(options, sb -> sb.onConnection(socket -> socket.on("export", event -> {
            handling.add("export");
            release.await(10, TimeUnit.SECONDS); // a handler that blocks past its timeout
        })));
             CuttableProxy network = new CuttableProxy(server.port());
             // Back after the handler has timed out, so that the retry finds its failure kept.
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(), ClientOptions.builder()
                     .reconnectionDelay(Duration.ofSeconds(1)).randomizationFactor(0)
                     .retries(5).ackTimeout(Duration.ofSeconds(3)).build())) {
            ClientSocket socket = client.socket();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            var reply = socket.emitWithAck("export", "report.csv");
            assertEquals("export", handling.poll(10, TimeUnit.SECONDS));
            network.cut(); // the failure the server sends goes down with this connection

            ExecutionException failed = assertThrows(ExecutionException.class, () -> reply.get(10, TimeUnit.SECONDS));
            assertTrue(failed.getCause() instanceof AckErrorException, failed.toString());
            assertTrue(((AckErrorException) failed.getCause()).error().text().contains("handler timed out"),
                    ((AckErrorException) failed.getCause()).error().text());
            assertTrue(handling.isEmpty(), "the retry was not handled again");
        } finally {
            release.countDown();
        }
    }

    @Test
    void closingDuringAHangingHandshakeOpensNoFurtherConnection() throws Exception {
        try (HangingServer server = new HangingServer()) {
            SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri());
            assertEquals(1, server.accepted.poll(10, TimeUnit.SECONDS), "the handshake is under way");
            client.close();
            // A server gives up on a handshake it never answered; the JDK would then send the
            // upgrade request again on a new connection, had the client not cancelled it.
            server.dropAll();
            Thread.sleep(500);
            assertTrue(server.accepted.isEmpty(), "no connection after close(): " + server.accepted);
        }
    }

    /** Accepts connections, counting them, and never answers the upgrade request. */
    private static final class HangingServer implements AutoCloseable {
        final BlockingQueue<Integer> accepted = new LinkedBlockingQueue<>();
        private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final List<java.net.Socket> open = new CopyOnWriteArrayList<>();

        HangingServer() throws IOException {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        open.add(listener.accept());
                        accepted.add(open.size());
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            }, "hanging-server");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        URI webSocketUri() {
            return URI.create("ws://127.0.0.1:" + listener.getLocalPort() + "/switchboard");
        }

        void dropAll() throws IOException {
            for (java.net.Socket socket : open) {
                socket.close();
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
            dropAll();
        }
    }

    private static void awaitNoConnections(TestServer server) {
        Await.until("no connection left", () -> server.switchboard().connectionCount() == 0);
    }
}
