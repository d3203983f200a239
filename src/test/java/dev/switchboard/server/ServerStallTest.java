package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.switchboard.testing.PausableServer;
import dev.switchboard.testing.RawClient;
import jakarta.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A server that stops reading for a while (frozen, starved of CPU, in a long collection) finds
 * what its clients sent meanwhile waiting in the kernel, and reads it as one burst. A client
 * within the rate limit must not pay for the server's stall: no refusals, no flood close.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ServerStallTest {
    private static final double RATE = 10;
    private static final int BURST = 10;
    private static final Duration PAUSE = Duration.ofSeconds(6);

    @Test
    void clientAtHalfTheRateIsNeitherRefusedNorClosedAfterTheServerWasFrozen() throws Exception {
        try (PausableServer server = PausableServer.start(RATE, BURST);
             RawClient client = RawClient.connect(server.webSocketUri())) {
            client.connectNamespace("/", null);
            AtomicBoolean sending = new AtomicBoolean(true);
            int[] sent = {0};
            Thread publisher = new Thread(() -> {
                while (sending.get()) {
                    client.send("{\"type\":\"event\",\"event\":\"tick\",\"args\":[" + sent[0] + "],\"ack\":" + (sent[0] + 1) + "}");
                    sent[0]++;
                    sleep(Math.round(1000 / (RATE / 2)));
                }
            }, "half-rate publisher");
            publisher.start();
            sleep(2000);
            server.pause();
            sleep(PAUSE.toMillis());   // some 30 events wait in the kernel, three times the burst
            server.resume();
            sleep(2000);
            sending.set(false);
            publisher.join();

            // Every event answered in order, each with its own number: none refused, none lost.
            List<String> answers = new ArrayList<>();
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < sent[0]; i++) {
                expected.add("ack " + (i + 1) + " [" + i + "]");
            }
            String frame;
            while (answers.size() < sent[0] && (frame = client.poll(Duration.ofSeconds(5))) != null) {
                JsonObject packet = RawClient.parse(frame);
                switch (packet.getString("type")) {
                    case "ack" -> answers.add("ack " + packet.getInt("ack") + " "
                            + (packet.containsKey("error") ? packet.get("error") : packet.get("args")));
                    case "error" -> answers.add("error " + packet.getString("code"));
                    default -> { }
                }
            }
            assertEquals(expected, answers, "answers after the server's own stall");
            assertFalse(client.isClosed(), "closed after the server's own stall");
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
