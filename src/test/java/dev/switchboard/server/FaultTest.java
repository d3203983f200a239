package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.client.ClientOptions;
import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.protocol.Arguments;
import dev.switchboard.testing.ClientProcess;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * Faults from outside: clients killed or frozen by the operating system, waves of connections,
 * a handler that blocks, a server restart. The server keeps serving and keeps nothing it should not.
 */
class FaultTest {
    private final BlockingQueue<DisconnectReason> reasons = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> expired = new LinkedBlockingQueue<>();

    private TestServer start(SwitchboardOptions.Builder options) {
        return start(options, 0);
    }

    private TestServer start(SwitchboardOptions.Builder options, int port) {
        return TestServer.start(options.build(), sb -> {
            sb.use(socket -> {
                Object user = socket.handshake().auth(Map.class) == null ? null : socket.handshake().auth(Map.class).get("user");
                socket.userId(user == null ? null : user.toString());
            });
            sb.onConnection(socket -> {
                socket.join("room");
                socket.onDisconnect(reasons::add);
                socket.on("echo", event -> event.ack(event.args().list().toArray()));
                socket.on("slow", event -> {
                    Thread.sleep(1500);
                    event.ack("slow done");
                });
            });
            sb.sockets().onSessionExpired(session -> expired.add(String.valueOf(session.userId())));
        }, port);
    }

    private static void waitUntil(String what, BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 1000 && !condition.getAsBoolean(); i++) {
            Thread.sleep(10);
        }
        assertTrue(condition.getAsBoolean(), what);
    }

    private static void assertNothingLeft(Switchboard sb) throws InterruptedException {
        Namespace root = sb.sockets();
        waitUntil("connections, sockets, sessions and rooms all freed", () -> sb.connectionCount() == 0
                && root.sockets().isEmpty() && root.detachedSessions().isEmpty()
                && root.adapter().rooms().isEmpty() && sb.options().sessionStore().size() == 0);
    }

    @Test
    void killedClientIsSeenAtOnceAndLeavesNothingBehind() throws Exception {
        try (TestServer server = start(TestServer.options().recoveryWindow(Duration.ofMillis(300)));
             ClientProcess client = ClientProcess.start(server.webSocketUri(), "maciel")) {
            client.await("connected");
            waitUntil("socket registered", () -> server.switchboard().sockets().sockets().size() == 1);
            long killedAt = System.nanoTime();
            client.kill();
            DisconnectReason reason = reasons.poll(10, TimeUnit.SECONDS);
            long seenAfterMillis = (System.nanoTime() - killedAt) / 1_000_000;
            assertTrue(Set.of(DisconnectReason.TRANSPORT_CLOSE, DisconnectReason.TRANSPORT_ERROR).contains(reason),
                    String.valueOf(reason));
            assertTrue(seenAfterMillis < 1000, "disconnect seen after " + seenAfterMillis + " ms");
            System.out.println("figure: kill -9 seen by the server after " + seenAfterMillis + " ms");
            assertEquals("maciel", expired.poll(10, TimeUnit.SECONDS));
            assertNothingLeft(server.switchboard());
        }
    }

    @Test
    void frozenClientTimesOutThenRecoversWithExactReplay() throws Exception {
        try (TestServer server = start(TestServer.options().pingInterval(Duration.ofMillis(500))
                .pingTimeout(Duration.ofMillis(500)));
             ClientProcess client = ClientProcess.start(server.webSocketUri(), "maciel")) {
            String firstConnect = client.await("connected");
            waitUntil("socket registered", () -> server.switchboard().sockets().sockets().size() == 1);
            for (int i = 0; i < 10; i++) {
                server.switchboard().toUser("maciel").emit("seq", i);
            }
            client.await("seq 9");
            reasons.clear();
            long stoppedAt = System.nanoTime();
            client.signal("STOP");
            assertEquals(DisconnectReason.PING_TIMEOUT, reasons.poll(10, TimeUnit.SECONDS));
            System.out.println("figure: SIGSTOP to ping timeout " + (System.nanoTime() - stoppedAt) / 1_000_000
                    + " ms (interval 500 + timeout 500)");
            for (int i = 10; i < 20; i++) {
                server.switchboard().toUser("maciel").emit("seq", i);
            }
            client.signal("CONT");
            String again = client.await("connected");
            assertEquals(firstConnect.split(" ")[1] + " true", again.substring("connected ".length()),
                    "same socket id, recovered");
            for (int i = 10; i < 20; i++) {
                assertEquals("seq " + i, client.await("seq"), "each missed event once, in order");
            }
            server.switchboard().toUser("maciel").emit("seq", 20);
            assertEquals("seq 20", client.await("seq"), "new events follow the replay, nothing repeated");
        }
    }

    @Test
    void connectionWavesLeaveNoSessionsRoomsOrAcksBehind() throws Exception {
        try (TestServer server = start(TestServer.options().recoveryWindow(Duration.ofMillis(100)))) {
            Switchboard sb = server.switchboard();
            long baseline = usedHeapAfterGc();
            for (int wave = 0; wave < 3; wave++) {
                List<RawClient> clients = new ArrayList<>();
                for (int i = 0; i < 150; i++) {
                    RawClient client = server.raw();
                    client.connectNamespace("/", null);
                    clients.add(client);
                }
                waitUntil("wave connected", () -> sb.sockets().sockets().size() == 150);
                List<CompletableFuture<Arguments>> owed = new ArrayList<>();
                int n = 0;
                for (Socket socket : sb.sockets().sockets().values()) {
                    socket.join("wave-room-" + (n++ % 10));
                    owed.add(socket.timeout(Duration.ofSeconds(30)).emitWithAck("question"));
                }
                for (int i = 0; i < clients.size(); i++) {
                    if (i % 2 == 0) {
                        clients.get(i).abort();
                    } else {
                        clients.get(i).close();
                    }
                }
                assertNothingLeft(sb);
                for (CompletableFuture<Arguments> ack : owed) {
                    assertTrue(ack.isCompletedExceptionally(), "acks owed by gone clients are failed, not kept");
                }
                System.out.println("figure: after wave " + (wave + 1) + " of 150 connections, heap "
                        + (usedHeapAfterGc() - baseline) / 1024 + " KiB above the baseline (clients share this JVM)");
            }
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        System.gc();
        Thread.sleep(100);
        Runtime runtime = Runtime.getRuntime();
        return runtime.totalMemory() - runtime.freeMemory();
    }

    @Test
    void blockingHandlerHoldsOnlyItsOwnConnection() throws Exception {
        try (TestServer server = start(TestServer.options());
             SwitchboardClient slowClient = SwitchboardClient.connect(server.webSocketUri());
             SwitchboardClient otherClient = SwitchboardClient.connect(server.webSocketUri())) {
            ClientSocket slow = slowClient.socket();
            ClientSocket other = otherClient.socket();
            slow.whenConnected().get(10, TimeUnit.SECONDS);
            other.whenConnected().get(10, TimeUnit.SECONDS);
            CompletableFuture<Arguments> slowReply = slow.emitWithAck("slow");
            Thread.sleep(100);
            assertEquals("fine", other.emitWithAck("echo", "fine").get(10, TimeUnit.SECONDS).get(0, String.class));
            assertFalse(slowReply.isDone(), "the other client was answered while the slow handler still ran");
            assertEquals("slow done", slowReply.get(10, TimeUnit.SECONDS).get(0, String.class));
            assertEquals("after", slow.emitWithAck("echo", "after").get(10, TimeUnit.SECONDS).get(0, String.class));
        }
    }

    @Test
    void restartedServerGetsItsClientsBack() throws Exception {
        TestServer first = start(TestServer.options());
        int port = first.port();
        try (SwitchboardClient client = SwitchboardClient.connect(first.webSocketUri(), ClientOptions.builder()
                .reconnectionDelay(Duration.ofMillis(50)).reconnectionDelayMax(Duration.ofMillis(200)).build())) {
            ClientSocket socket = client.socket();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            BlockingQueue<String> lifecycle = new LinkedBlockingQueue<>();
            socket.onDisconnect(reason -> lifecycle.add("disconnect " + reason));
            socket.onConnect(() -> lifecycle.add("connect"));
            first.close();
            assertEquals(DisconnectReason.SERVER_SHUTTING_DOWN, reasons.poll(10, TimeUnit.SECONDS));
            String disconnect = lifecycle.poll(10, TimeUnit.SECONDS);
            assertNotNull(disconnect);
            try (TestServer second = start(TestServer.options(), port)) {
                assertEquals("connect", lifecycle.poll(10, TimeUnit.SECONDS));
                assertFalse(socket.recovered(), "a new server process has no session to recover");
                assertEquals("back", socket.emitWithAck("echo", "back").get(10, TimeUnit.SECONDS).get(0, String.class));
                assertEquals(1, second.switchboard().connectionCount());
            }
        }
    }
}
