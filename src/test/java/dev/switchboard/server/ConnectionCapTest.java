package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Past a connection cap, new connections are refused with 1013 and the open ones carry on. */
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
            waitUntil(() -> server.switchboard().connectionCount() < allowed);
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

    private static void waitUntil(java.util.function.BooleanSupplier condition) {
        for (int i = 0; i < 500 && !condition.getAsBoolean(); i++) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
