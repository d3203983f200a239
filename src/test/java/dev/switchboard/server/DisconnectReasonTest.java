package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Each way a socket can end reaches the application with its reason from the closed set. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class DisconnectReasonTest {
    private final BlockingQueue<DisconnectReason> reasons = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> disconnectingRooms = new LinkedBlockingQueue<>();
    private TestServer server;

    @BeforeEach
    void start() {
        start(TestServer.options().sendQueueBytes(64 * 1024));
    }

    private void start(SwitchboardOptions.Builder options) {
        server = TestServer.start(options.build(), sb -> sb.onConnection(socket -> {
                    socket.join("lobby");
                    socket.onDisconnecting(reason -> disconnectingRooms.add(String.join(",", new java.util.TreeSet<>(socket.rooms()))));
                    socket.onDisconnect(reasons::add);
                    socket.on("kick-me", event -> socket.disconnect());
                    socket.on("close-me", event -> socket.disconnect(true));
                    socket.on("flood", event -> {
                        String big = "x".repeat(16 * 1024);
                        // Far more than the loopback socket buffers absorb before the queue fills.
                        for (int i = 0; i < 4000 && socket.connected(); i++) {
                            socket.emit("big", big);
                        }
                    });
                }));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private DisconnectReason nextReason() throws InterruptedException {
        DisconnectReason reason = reasons.poll(10, TimeUnit.SECONDS);
        assertNotNull(reason, "no disconnect reported");
        return reason;
    }

    private RawClient connected() {
        RawClient client = server.raw();
        assertEquals("connect", client.connectNamespace("/", null).getString("type"));
        return client;
    }

    @Test
    void clientDisconnectsTheNamespace() throws Exception {
        try (RawClient client = connected()) {
            client.sendJson("{'type':'disconnect'}");
            assertEquals(DisconnectReason.CLIENT_DISCONNECT, nextReason());
        }
    }

    @Test
    void clientClosesTheConnection() throws Exception {
        RawClient client = connected();
        client.close();
        assertEquals(DisconnectReason.CLIENT_DISCONNECT, nextReason());
    }

    @Test
    void disconnectingListenersStillSeeTheRooms() throws Exception {
        RawClient client = connected();
        client.close();
        nextReason();
        String rooms = disconnectingRooms.poll(5, TimeUnit.SECONDS);
        assertNotNull(rooms);
        assertEquals(true, rooms.contains("lobby"), rooms);
    }

    @Test
    void serverDisconnectsTheSocket() throws Exception {
        try (RawClient client = connected()) {
            client.sendJson("{'type':'event','event':'kick-me','args':[]}");
            JsonObject packet = client.next("disconnect");
            assertEquals("server disconnect", packet.getString("reason"));
            assertEquals(DisconnectReason.SERVER_DISCONNECT, nextReason());
        }
    }

    @Test
    void serverClosesTheConnection() throws Exception {
        try (RawClient client = connected()) {
            client.sendJson("{'type':'event','event':'close-me','args':[]}");
            assertEquals(DisconnectReason.SERVER_DISCONNECT, nextReason());
            // Told before the close, so that it does not take the close for a lost connection and come back.
            assertEquals("server disconnect", client.next("disconnect").getString("reason"));
            assertEquals(1000, client.awaitClose());
        }
    }

    @Test
    void connectionDropsWithoutGoodbye() throws Exception {
        RawClient client = connected();
        client.abort();
        assertEquals(DisconnectReason.TRANSPORT_CLOSE, nextReason());
    }

    @Test
    void brokenFramesAreATransportError() throws Exception {
        try (RawTcp tcp = RawTcp.upgrade(server.port(), "/switchboard")) {
            tcp.write(maskedFrame(0x81, "{\"type\":\"connect\"}"));
            Thread.sleep(200);
            tcp.write(maskedFrame(0x83, "reserved opcode"));
            tcp.readToEnd();
            assertEquals(DisconnectReason.TRANSPORT_ERROR, nextReason());
        }
    }

    @Test
    void silentClientTimesOut() throws Exception {
        server.close();
        reasons.clear();
        start(TestServer.options().pingInterval(Duration.ofMillis(100)).pingTimeout(Duration.ofMillis(200)));
        try (RawClient client = connected()) {
            client.stopAnsweringPings();
            assertEquals(DisconnectReason.PING_TIMEOUT, nextReason());
            assertEquals(4000, client.awaitClose());
        }
    }

    @Test
    void clientThatStopsReadingIsASlowConsumer() throws Exception {
        try (RawClient client = connected()) {
            client.stopReading();
            client.sendJson("{'type':'event','event':'flood','args':[]}");
            assertEquals(DisconnectReason.SLOW_CONSUMER, nextReason());
            assertEquals(1, server.switchboard().metrics().slowConsumers());
        }
    }

    @Test
    void repeatedProtocolErrorsAreAPolicyViolation() throws Exception {
        try (RawClient client = connected()) {
            for (int i = 0; i < 10; i++) {
                client.send("not json " + i);
            }
            assertEquals(DisconnectReason.POLICY_VIOLATION, nextReason());
            assertEquals(1008, client.awaitClose());
        }
    }

    @Test
    void disconnectListenerAddedAfterTheSocketEndedStillRuns() throws Exception {
        try (RawClient client = connected()) {
            Socket socket = server.switchboard().root().sockets().values().iterator().next();
            client.sendJson("{'type':'disconnect'}");
            assertEquals(DisconnectReason.CLIENT_DISCONNECT, nextReason());
            java.util.concurrent.BlockingQueue<DisconnectReason> late = new LinkedBlockingQueue<>();
            socket.onDisconnect(late::add);
            assertEquals(DisconnectReason.CLIENT_DISCONNECT, late.poll(1, TimeUnit.SECONDS));
        }
    }

    @Test
    void shutdownTellsEveryClient() throws Exception {
        RawClient client = connected();
        server.close();
        assertEquals(DisconnectReason.SERVER_SHUTTING_DOWN, nextReason());
        assertEquals(1001, client.awaitClose());
    }

    static byte[] maskedFrame(int firstByte, String text) {
        byte[] payload = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] mask = {1, 2, 3, 4};
        byte[] frame = new byte[6 + payload.length];
        frame[0] = (byte) firstByte;
        frame[1] = (byte) (0x80 | payload.length);
        System.arraycopy(mask, 0, frame, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            frame[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
        }
        return frame;
    }
}
