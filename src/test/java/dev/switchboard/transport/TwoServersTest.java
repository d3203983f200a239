package dev.switchboard.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Standalone servers in one JVM each serve their own Switchboard, before and after another stops. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TwoServersTest {
    private static String whoAnswers(TestServer server) {
        try (RawClient client = server.raw()) {
            client.connectNamespace("/", null);
            client.sendJson("{'type':'event','event':'who','args':[],'ack':1}");
            return client.next("ack").getJsonArray("args").getString(0);
        }
    }

    private static TestServer named(String name) {
        return TestServer.start(sb -> sb.onConnection(socket -> socket.on("who", event -> event.ack(name))));
    }

    @Test
    void eachServerAnswersOnItsOwnPort() {
        try (TestServer first = named("first")) {
            try (TestServer second = named("second")) {
                assertEquals("first", whoAnswers(first));
                assertEquals("second", whoAnswers(second));
            }
            assertEquals("first", whoAnswers(first), "the first still serves after the second stopped");
        }
    }
}
