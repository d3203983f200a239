package dev.switchboard.server;

import dev.switchboard.api.Handshake;
import dev.switchboard.outbound.Transport;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Past a connection cap, new connections are refused with 1013 and the open ones carry on; a
 * connection whose transport closed frees its place at once.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ConnectionCapTest {

    private static void assertServed(RawClient client) {
        client.sendJson("{'type':'event','event':'echo','args':[1],'ack':1}");
        assertEquals(1, client.next("ack").getInt("ack"));
    }

    private static void assertCapHolds(int total, int perAddress, int allowed) {
        try (TestServer server = TestServer.start(TestServer.options().maxConnections(total, perAddress).build(),
                sb -> sb.onConnection(socket -> socket.on("echo", event -> event.ack())))) {
            List<RawClient> open = new ArrayList<>();
            for (int i = 0; i < allowed; i++) {
                RawClient client = server.raw();
                client.connectNamespace("/", null);
                open.add(client);
            }
            try (RawClient refused = server.raw()) {
                assertEquals(1013, refused.awaitClose());
            }
            for (RawClient client : open) {
                assertServed(client);
            }
            open.get(0).close();
            Await.until("a connection freed", () -> server.switchboard().connectionCount() < allowed);
            try (RawClient admitted = server.raw()) {
                admitted.connectNamespace("/", null);
                assertServed(admitted);
            }
            assertEquals(1, server.switchboard().metrics().refusedConnections());
            open.forEach(RawClient::close);
        }
    }

    @Test
    void capPerAddress() {
        assertCapHolds(100, 3, 3);
    }

    @Test
    void capOverall() {
        assertCapHolds(4, 100, 4);
    }

    /**
     * A container may report the close from inside one of our sends (Tyrus does for a failed send),
     * when the sockets' ending waits for the timer thread. The connection leaves the count and its
     * address's cap at once all the same, even with the timer busy: under churn it was counted
     * long after its TCP connection was gone, and newcomers were refused.
     */
    @Test
    void aClosedTransportLeavesTheCapAtOnceWhileTheTimerIsBusy() throws Exception {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
        CountDownLatch busy = new CountDownLatch(1);
        timer.execute(() -> {
            try {
                busy.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Switchboard sb = Switchboard.create(SwitchboardOptions.defaults().toBuilder()
                .maxConnections(100, 1).scheduler(timer).build());
        try {
            ClosingInsideSend transport = new ClosingInsideSend();
            transport.connection = sb.open(transport, handshakeFrom("10.0.0.1"));
            transport.closeInsideNextSend = true;
            transport.connection.onText("{\"type\":\"connect\"}");
            assertEquals(0, sb.connectionCount());
            assertNotNull(sb.open(new ClosingInsideSend(), handshakeFrom("10.0.0.1")), "a newcomer from that address");
        } finally {
            busy.countDown();
            sb.close();
            timer.shutdownNow();
        }
    }

    private static Handshake handshakeFrom(String address) {
        return new Handshake(URI.create("/switchboard"), Map.of(), Map.of(), address, Instant.now(), null);
    }

    /** Sends at once; told to, it reports the connection closed from inside the next send, then fails it. */
    private static final class ClosingInsideSend implements Transport {
        volatile Connection connection;
        volatile boolean closeInsideNextSend;

        @Override
        public void send(String text, Consumer<Throwable> done) {
            if (closeInsideNextSend) {
                connection.onTransportClosed(1006);
                done.accept(new IOException("closed"));
            } else {
                done.accept(null);
            }
        }

        @Override
        public void close(int code, String reason) {
        }
    }
}
