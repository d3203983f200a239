package dev.switchboard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.Arguments;
import dev.switchboard.server.Socket;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.ClaimFailingStore;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.VirtualTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Java client's features in combination: reconnection with what the server refuses,
 * recovery with buffered emits and acks, the socket's own lifecycle with connects in flight.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ClientCombinationsTest {
    private static ClientOptions.Builder fastReconnect() {
        return ClientOptions.builder().reconnectionDelay(Duration.ofMillis(50))
                .reconnectionDelayMax(Duration.ofMillis(200)).randomizationFactor(0);
    }

    @Test
    void aServerThatRefusesEveryUpgradeWith1013IsRetriedWithinTheAttemptsLimitThenGivenUp() throws Exception {
        // One connection fills the server; every later upgrade is accepted, then closed with 1013.
        try (TestServer server = TestServer.start(TestServer.options().maxConnections(1, 1).build(), sb -> { });
             SwitchboardClient holder = SwitchboardClient.connect(server.webSocketUri())) {
            holder.socket().whenConnected().get(10, TimeUnit.SECONDS);
            BlockingQueue<String> seen = new LinkedBlockingQueue<>();
            List<Integer> attempts = new CopyOnWriteArrayList<>();
            try (SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(),
                    fastReconnect().reconnectionAttempts(3).autoConnect(false).build())) {
                client.onReconnectAttempt(attempts::add);
                client.onReconnect(tries -> seen.add("reconnect"));
                client.onReconnectFailed(() -> seen.add("reconnect_failed"));
                ClientSocket socket = client.socket();
                socket.onConnectError(error -> seen.add("connect_error"));
                socket.connect();

                // The first connect and three reconnection attempts, each refused: then it gives
                // up, as the browser client does (before: each refused upgrade counted as a
                // successful reconnection, reset the attempts, and it retried forever at the base delay).
                List<String> events = new ArrayList<>();
                String event;
                while ((event = seen.poll(5, TimeUnit.SECONDS)) != null && !event.equals("reconnect_failed")
                        && events.size() < 10) {
                    events.add(event);
                }
                assertEquals("reconnect_failed", event, "attempts so far: " + attempts + ", events: " + events);
                assertEquals(List.of(1, 2, 3), attempts);
                // The first connection is under way before socket.connect() (SwitchboardClient.connect
                // says so): refused at once, it may fail before the socket is active and tell it nothing.
                assertTrue(events.equals(List.of("connect_error", "connect_error", "connect_error", "connect_error"))
                        || events.equals(List.of("connect_error", "connect_error", "connect_error")),
                        "each refused upgrade is a failed attempt, none a reconnection: " + events);
                assertTrue(!socket.connected());
            }
        }
    }

    /**
     * A listener that stalls holds back the client's reading: the server's send queue for it
     * fills and the server cuts it off as a slow consumer. Once the listener goes on, the client
     * reads what had reached it, sees why it was cut off, comes back and recovers the rest: every
     * event once, in order.
     */
    @Test
    void aClientWhoseListenerStallsIsCutOffAsASlowConsumerAndRecoversEveryEventInOrder() throws Exception {
        CountDownLatch goOn = new CountDownLatch(1);
        BlockingQueue<String> serverSide = new LinkedBlockingQueue<>();
        try (TestServer server = TestServer.start(TestServer.options().sendQueueBytes(64 * 1024)
                        .recoveryLimits(1000, 16 << 20).build(),
                sb -> sb.onConnection(socket -> {
                    serverSide.add(socket.recovered() ? "recovered" : "connected");
                    socket.onDisconnect(reason -> serverSide.add("disconnect:" + reason.text()));
                }));
             SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(), fastReconnect().build())) {
            List<Integer> received = new CopyOnWriteArrayList<>();
            BlockingQueue<String> drops = new LinkedBlockingQueue<>();
            ClientSocket socket = client.socket();
            socket.onDisconnect(drops::add);
            socket.on("seq", event -> {
                received.add(event.arg(0, int.class));
                try {
                    goOn.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            assertEquals("connected", serverSide.poll(10, TimeUnit.SECONDS));
            String id = socket.id();

            String payload = "s".repeat(16 * 1024);
            int total = 400;
            for (int i = 0; i < total; i++) {
                server.switchboard().to(id).emit("seq", i, payload);
            }
            assertEquals("disconnect:slow consumer", serverSide.poll(10, TimeUnit.SECONDS));
            goOn.countDown();

            assertEquals("slow consumer", drops.poll(10, TimeUnit.SECONDS));
            assertEquals("recovered", serverSide.poll(10, TimeUnit.SECONDS));
            Await.until("every event", () -> received.size() >= total);
            server.switchboard().to(id).emit("seq", total);
            Await.until("the next one", () -> received.size() > total);
            assertEquals(IntStream.rangeClosed(0, total).boxed().toList(), received, "each once, in order");
            assertEquals(id, socket.id());
            assertTrue(socket.recovered());
        }
    }

    @Test
    void aSocketLeftAndReopenedWhileItsConnectIsInFlightConnectsAsTheReopenedSocket() throws Exception {
        List<String> chatIds = new CopyOnWriteArrayList<>();
        AtomicInteger checks = new AtomicInteger();
        // The first connect stays unanswered until the client has left and connected again (a
        // fixed pause here was not always longer than the test thread took to get there).
        CountDownLatch leftAndBack = new CountDownLatch(1);
        try (TestServer server = TestServer.start(sb -> sb.of("/chat")
                .use(socket -> {
                    if (checks.incrementAndGet() == 1) {
                        try {
                            leftAndBack.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                })
                .onConnection(socket -> chatIds.add(socket.id())));
             SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(), fastReconnect().build())) {
            // "/" keeps the WebSocket open while "/chat" connects, leaves and connects again.
            client.socket().whenConnected().get(10, TimeUnit.SECONDS);
            BlockingQueue<String> connects = new LinkedBlockingQueue<>();
            ClientSocket chat = client.socket("/chat");
            chat.onConnect(() -> connects.add(chat.id()));
            chat.disconnect();
            chat.connect();
            leftAndBack.countDown();

            // The server answered the first connect, ended that socket at the disconnect, then
            // opened the one the client has now. Before, the client took the first answer for the
            // second connect: connected, as far as its listeners could tell, as a socket that was gone.
            String connectedAs = connects.poll(10, TimeUnit.SECONDS);
            Await.until("two /chat sockets at the server", () -> chatIds.size() == 2);
            assertEquals(chatIds.get(1), connectedAs, "the id of the live socket, not of the one left");
            assertEquals(chatIds.get(1), chat.id());
            assertEquals(List.of(chatIds.get(1)), List.copyOf(server.switchboard().of("/chat").sockets().keySet()));
        }
    }

    @Test
    void anEmitWithAckSentOnAConnectionThatDropsFailsAtTheDropAndOneMadeOfflineIsAnswered() throws Exception {
        BlockingQueue<String> handled = new LinkedBlockingQueue<>();
        try (TestServer server = TestServer.start(sb -> sb.onConnection(socket -> {
                socket.on("pay", event -> handled.add("pay " + event.arg(0, int.class)));   // never answered
                socket.on("echo", event -> event.ack(event.arg(0, String.class)));
            }));
             CuttableProxy network = new CuttableProxy(server.port());
             // A timeout far beyond the test's waits: only the drop can end the first emit in time.
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(),
                     fastReconnect().ackTimeout(Duration.ofMinutes(5)).build())) {
            ClientSocket socket = client.socket();
            BlockingQueue<String> drops = new LinkedBlockingQueue<>();
            socket.onDisconnect(drops::add);
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            CompletableFuture<Arguments> paid = socket.emitWithAck("pay", 7);
            assertEquals("pay 7", handled.poll(10, TimeUnit.SECONDS));

            network.refuse(true);   // stays offline until the emit below is buffered
            network.cut();
            assertTrue(drops.poll(10, TimeUnit.SECONDS).startsWith("transport "), "the drop");
            CompletableFuture<Arguments> echoed = socket.emitWithAck("echo", "made offline");

            // The server failed its side of the ack at the drop and never replays it, so the
            // answer cannot come: fail it now, as the browser client does (before: it waited
            // for its timeout, 5 minutes here).
            ExecutionException failed = assertThrows(ExecutionException.class, () -> paid.get(10, TimeUnit.SECONDS));
            assertTrue(failed.getCause() instanceof DisconnectedException, failed.toString());
            assertTrue(!echoed.isDone(), "an emit not sent yet is not failed by the drop");
            network.refuse(false);
            assertEquals("made offline", echoed.get(10, TimeUnit.SECONDS).get(0, String.class));
            assertEquals(List.of(), List.copyOf(handled), "pay was not resent");
        }
    }

    /**
     * The server says hello, then cannot claim the returning client's session (its store does not
     * answer: a cluster node cut from Redis) and closes with 1013, the session still kept. That is
     * a failed attempt like a 1013 before hello: the client backs off and gives up within its
     * attempts, and once the store answers again, connect() recovers the session.
     */
    @Test
    void aRecoveryRefusedWith1013AfterHelloIsAFailedAttemptNotAReconnection() throws Exception {
        ClaimFailingStore store = new ClaimFailingStore();
        try (TestServer server = TestServer.start(TestServer.options().sessionStore(store).build(), sb -> { });
             CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(),
                     fastReconnect().reconnectionAttempts(3).build())) {
            BlockingQueue<String> seen = new LinkedBlockingQueue<>();
            client.onReconnectAttempt(attempt -> seen.add("attempt " + attempt));
            client.onReconnect(tries -> seen.add("reconnect"));
            client.onReconnectFailed(() -> seen.add("reconnect_failed"));
            ClientSocket socket = client.socket();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            String id = socket.id();

            store.down(true);
            network.cut();
            List<String> events = new ArrayList<>();
            String event;
            while ((event = seen.poll(5, TimeUnit.SECONDS)) != null && !event.equals("reconnect_failed")
                    && events.size() < 10) {
                events.add(event);
            }
            // Before: hello counted as a reconnection and reset the attempts, so the client came
            // back at the base delay forever ("attempt 1", "reconnect", "attempt 1", ...).
            assertEquals(List.of("attempt 1", "attempt 2", "attempt 3"), events);
            assertEquals("reconnect_failed", event);

            store.down(false);
            socket.connect().whenConnected().get(10, TimeUnit.SECONDS);
            assertTrue(socket.recovered(), "the session was kept");
            assertEquals(id, socket.id());
        }
    }

    /**
     * The server restarts; the client comes back to a fresh session (offsets count from 1 again).
     * It answers the new server's first ping before any event of the new session reached it, and
     * its connection then drops with events of that session in flight. Its pong must not name
     * an offset of the old process: the new one would take it for one of its own and drop, as
     * confirmed, events the client never got, and the recovery that follows could not replay them.
     */
    @Test
    void aPongAfterARestartDoesNotConfirmTheNewSessionsEventsWithAnOffsetOfTheOldServer() throws Exception {
        VirtualTime time = new VirtualTime();
        CountDownLatch release = new CountDownLatch(1);
        BlockingQueue<String> serverSide = new LinkedBlockingQueue<>();
        BlockingQueue<Socket> sockets = new LinkedBlockingQueue<>();
        TestServer old = TestServer.start(sb -> sb.onConnection(sockets::add));
        try (TestServer restarted = TestServer.start(TestServer.options().clock(time.clock()).scheduler(time)
                        .callbackExecutor(Runnable::run).handlerTimeout(Duration.ofMinutes(2)).build(),
                     sb -> sb.onConnection(socket -> {
                         socket.on("block", event -> {
                             serverSide.add("blocked");
                             release.await();
                         });
                         socket.on("fence", event -> serverSide.add("fence"));
                         sockets.add(socket);
                     }));
             CuttableProxy network = new CuttableProxy(old.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(), fastReconnect().build())) {
            ClientSocket socket = client.socket();
            BlockingQueue<String> seen = new LinkedBlockingQueue<>();
            socket.onConnect(() -> seen.add(socket.recovered() ? "recovered" : "connected"));
            socket.on("n", event -> {
                seen.add("n " + event.arg(0, int.class));
                if (event.arg(0, int.class) == 0) {
                    socket.emit("fence");
                }
            });
            assertEquals("connected", seen.poll(10, TimeUnit.SECONDS));
            Socket first = sockets.poll(10, TimeUnit.SECONDS);
            for (int i = -3; i < 0; i++) {   // offsets 1, 2, 3 of the old process
                first.emit("n", i);
                assertEquals("n " + i, seen.poll(10, TimeUnit.SECONDS));
            }

            network.retarget(restarted.port());
            old.close();
            assertEquals("connected", seen.poll(10, TimeUnit.SECONDS));
            Socket fresh = sockets.poll(10, TimeUnit.SECONDS);
            socket.emit("block");
            assertEquals("blocked", serverSide.poll(10, TimeUnit.SECONDS));
            // The ping, then event 0 (offset 1): the client has answered the ping, its pong
            // waiting unread behind the listener, when it gets the event and sends the fence.
            time.advance(restarted.switchboard().options().pingInterval());
            fresh.emit("n", 0);
            assertEquals("n 0", seen.poll(10, TimeUnit.SECONDS));
            network.holdToClients();
            for (int i = 1; i <= 3; i++) {   // offsets 2, 3, 4: logged, never delivered
                fresh.emit("n", i);
            }
            release.countDown();
            assertEquals("fence", serverSide.poll(10, TimeUnit.SECONDS), "the pong was read");
            network.cut();
            network.release();

            assertEquals("recovered", seen.poll(10, TimeUnit.SECONDS));
            assertEquals(List.of("n 1", "n 2", "n 3"),
                    List.of(seen.poll(10, TimeUnit.SECONDS), seen.poll(10, TimeUnit.SECONDS), seen.poll(10, TimeUnit.SECONDS)));
        } finally {
            old.close();
        }
    }

    /**
     * A client closed while its socket waits for the token provider (a login service that has not
     * answered yet) leaves no thread of its own behind: the application's JVM and its tests end.
     */
    @Test
    void aClientClosedWhileItsTokenProviderHasNotAnsweredLeavesNoThreadBehind() throws Exception {
        Set<Thread> before = clientThreads();
        try (TestServer server = TestServer.start(sb -> { })) {
            // A connect timeout far beyond the test's wait: only the close can end its timer in time.
            SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(),
                    fastReconnect().connectTimeout(Duration.ofMinutes(5)).autoConnect(false).build());
            CompletableFuture<String> token = new CompletableFuture<>();
            ClientSocket socket = client.socket().tokenProvider(() -> token);
            socket.connect();
            Await.until("the client's timer thread", () -> !newThreads(before).isEmpty());
            client.close();

            // Before: the thread lived on for the connect timeout, waiting to time the provider out.
            Await.until("no thread of the closed client left", () -> newThreads(before).isEmpty());
            token.complete("late");
            assertTrue(!socket.connected());
        }
    }

    private static Set<Thread> clientThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.isAlive() && thread.getName().startsWith("switchboard-client-"))
                .collect(Collectors.toSet());
    }

    private static Set<Thread> newThreads(Set<Thread> before) {
        Set<Thread> now = clientThreads();
        now.removeAll(before);
        return now;
    }
}
