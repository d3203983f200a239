package dev.switchboard.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.Arguments;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
}
