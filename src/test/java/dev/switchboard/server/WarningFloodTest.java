package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.VirtualTime;
import jakarta.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A client that makes a handler or middleware throw on every frame gets its error answers, but
 * cannot flood the server's log: the first failure of a kind is logged with its stack trace, the
 * rest are counted and summarised in one line a minute.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class WarningFloodTest {
    private static final String NAMESPACE = "/hostile";
    private static final int FAILURES = 150;

    /** The auth the middleware expects: an object with a name. */
    public record Login(String name) {
    }

    private final VirtualTime time = new VirtualTime();
    /** Held here: the logging framework keeps its loggers only weakly. */
    private final Logger serverLog = Logger.getLogger("dev.switchboard");
    private final List<LogRecord> warnings = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue() && record.getMessage().contains(NAMESPACE)) {
                warnings.add(record);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private TestServer server;

    @BeforeEach
    void start() {
        serverLog.addHandler(capture);
        // Virtual time for the summaries; a rate that the clock, still meanwhile, never runs out of.
        SwitchboardOptions options = TestServer.options().clock(time.clock()).scheduler(time)
                .eventRate(1_000_000, 1_000_000).build();
        server = TestServer.start(options, sb -> {
            Namespace hostile = sb.of(NAMESPACE);
            hostile.use(socket -> socket.userId(socket.handshake().auth(Login.class).name()));
            hostile.onConnection(socket -> {
                socket.on("burst", event -> {
                    throw new IllegalArgumentException("burst takes a count, got " + event.arg(0, Integer.class));
                });
                socket.onAny((event, args) -> {
                    if (event.startsWith("audit-")) {
                        throw new IllegalStateException("audit log full");
                    }
                });
            });
        });
    }

    @AfterEach
    void stop() {
        server.close();
        serverLog.removeHandler(capture);
    }

    private static void failingEvent(RawClient client, int ack) {
        client.sendJson("{'type':'event','nsp':'" + NAMESPACE + "','event':'burst','args':[],'ack':" + ack + "}");
        JsonObject answer = client.next("ack");
        assertEquals(ack, answer.getInt("ack"));
        assertTrue(answer.getJsonObject("error").getString("message").startsWith("listener failed"), answer.toString());
    }

    @Test
    void repeatedFailuresLogTheFirstWithItsStackThenOneSummaryAMinute() throws InterruptedException {
        try (RawClient client = server.raw(); RawClient stranger = server.raw()) {
            assertEquals("connect", client.connectNamespace(NAMESPACE, "{\"name\":\"ann\"}").getString("type"));
            for (int i = 1; i <= FAILURES; i++) {
                failingEvent(client, i);
            }
            for (int i = 0; i < FAILURES; i++) {
                JsonObject refused = stranger.connectNamespace(NAMESPACE, "\"a string, not an object\"");
                assertEquals("server error", refused.getString("message"), refused.toString());
            }
            assertEquals(2, warnings.size(), "one record per kind: " + messages());
            assertTrue(warnings.get(0).getMessage().startsWith("listener of 'burst' on /hostile failed"), messages());
            assertTrue(warnings.get(1).getMessage().startsWith("middleware of /hostile failed"), messages());
            warnings.forEach(record -> assertNotNull(record.getThrown(), "the first of a kind has its stack trace"));

            time.advance(Warnings.SUMMARY_PERIOD);
            Await.until("a summary per kind", () -> warnings.size() >= 4);
            assertEquals(4, warnings.size(), "one summary per kind: " + messages());
            List<String> summaries = warnings.subList(2, 4).stream().map(LogRecord::getMessage).sorted().toList();
            assertTrue(summaries.get(0).startsWith("listener of 'burst' on /hostile failed (java.lang.IllegalArgumentException): "
                    + (FAILURES - 1) + " more since the last summary; the latest: java.lang.IllegalArgumentException: "
                    + "burst takes a count, got null"), summaries.get(0));
            assertTrue(summaries.get(1).startsWith("middleware of /hostile failed ("), summaries.get(1));
            assertTrue(summaries.get(1).contains(": " + (FAILURES - 1) + " more since the last summary"), summaries.get(1));
            warnings.subList(2, 4).forEach(record -> assertNull(record.getThrown(), "a summary has no stack trace"));
        }
    }

    @Test
    void anOnAnyListenerThatThrowsFailsEachEventUnderOneKindWhateverItsName() {
        try (RawClient client = server.raw()) {
            client.connectNamespace(NAMESPACE, "{\"name\":\"ann\"}");
            for (int i = 1; i <= FAILURES; i++) {
                client.sendJson("{'type':'event','nsp':'" + NAMESPACE + "','event':'audit-" + i + "','args':[],'ack':" + i + "}");
                JsonObject answer = client.next("ack");
                assertEquals(i, answer.getInt("ack"));
                assertTrue(answer.getJsonObject("error").getString("message").contains("audit log full"), answer.toString());
            }
            failingEvent(client, FAILURES + 1);
            assertEquals(List.of("onAny listener on /hostile failed", "listener of 'burst' on /hostile failed"),
                    warnings.stream().map(record -> record.getMessage().substring(0, record.getMessage().indexOf(" failed") + 7))
                            .toList());
        }
    }

    private String messages() {
        return warnings.stream().map(LogRecord::getMessage).toList().toString();
    }
}
