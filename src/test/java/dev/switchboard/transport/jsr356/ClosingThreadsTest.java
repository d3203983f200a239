package dev.switchboard.transport.jsr356;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The threads that close connections in the background end once their work is done, so that a
 * web application that stops leaves none behind (a thread left running holds its class loader).
 * On the standalone server, as on Jetty, a close of ours also sets a deadline after which the
 * connection is dropped if it is still there; the deadline's timer thread is one of them.
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class ClosingThreadsTest {
    private static final String DEADLINE_THREAD = "switchboard-close-deadline";

    @Test
    void theCloseDeadlinesThreadEndsOnceItsDeadlinesRan() {
        try (TestServer server = TestServer.start(switchboard -> switchboard.onConnection(socket ->
                socket.on("leave me", event -> socket.disconnect(true))))) {
            RawClient client = server.raw();
            client.connectNamespace("/", null);
            client.sendJson("{'type':'event','event':'leave me','args':[]}");
            assertEquals(1000, client.awaitClose());
            Await.until("the close deadline's timer thread started", () -> threadAlive(DEADLINE_THREAD));

            assertTrue(SwitchboardEndpoint.awaitClosing(Duration.ofSeconds(30)),
                    "closes and their deadlines done within 30 s");
            assertFalse(threadAlive(DEADLINE_THREAD), "no timer thread left once its deadlines ran");
        }
    }

    private static boolean threadAlive(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(thread -> thread.getName().equals(name) && thread.isAlive());
    }
}
