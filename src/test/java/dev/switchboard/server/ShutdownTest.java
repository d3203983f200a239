package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A server that shuts down tells its clients and takes no new ones, even while its port still listens. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ShutdownTest {
    @Test
    void aServerShuttingDownClosesItsClientsAndRefusesNewOnesWith1001() {
        try (TestServer server = TestServer.start(sb -> { })) {
            RawClient before = server.raw();
            assertEquals("connect", before.connectNamespace("/", null).getString("type"));

            assertTrue(server.switchboard().shutdown(TestServer.options().build().shutdownGrace()), "every connection closed in time");
            assertEquals(1001, before.awaitClose());
            assertFalse(server.switchboard().accepting());

            // The container still upgrades; the server closes at once, before any hello.
            try (RawClient after = server.raw()) {
                assertEquals(1001, after.awaitClose());
            }
            assertEquals(0, server.switchboard().connectionCount());
        }
    }
}
