package dev.switchboard.transport;

import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The WebSocket-layer contract on the standalone Grizzly/Tyrus server. */
class GrizzlyWebSocketLayerTest extends WebSocketLayerContract {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.options().pingInterval(Duration.ofMillis(300))
                .pingTimeout(Duration.ofMillis(300)).build(), sb -> { });
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Override
    protected int port() {
        return server.port();
    }

    @Override
    protected String path() {
        return "/switchboard";
    }

    /** Tyrus waits for a declared frame's bytes (buffering at most maxPayload), so the heartbeat ends it. */
    @Override
    protected Set<Integer> hugeDeclaredLengthCodes() {
        return Set.of(1009, 4000);
    }
}
