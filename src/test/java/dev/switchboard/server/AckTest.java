package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.client.AckErrorException;
import dev.switchboard.protocol.Arguments;
import dev.switchboard.testing.Inbox;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Acknowledgements answer an emit like a function call, in both directions, with timeouts. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class AckTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(sb -> sb.onConnection(socket -> {
            socket.on("add", event -> event.ack(event.arg(0, int.class) + event.arg(1, int.class)));
            socket.on("fails", event -> {
                throw new IllegalStateException("database down");
            });
        }));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Socket serverSide(Inbox inbox) {
        return server.switchboard().root().sockets().get(inbox.socket().id());
    }

    private static Throwable failureOf(CompletableFuture<?> future) {
        return assertThrows(ExecutionException.class, () -> future.get(10, TimeUnit.SECONDS)).getCause();
    }

    @Test
    void serverHandlerAnswersTheClientsAck() throws Exception {
        try (Inbox client = Inbox.open(server.webSocketUri(), "/", null)) {
            Arguments reply = client.socket().emitWithAck("add", 2, 40).get(10, TimeUnit.SECONDS);
            assertEquals(42, reply.get(0, int.class));
        }
    }

    @Test
    void failingHandlerAnswersWithAnError() throws Exception {
        try (Inbox client = Inbox.open(server.webSocketUri(), "/", null)) {
            Throwable failure = failureOf(client.socket().emitWithAck("fails"));
            assertInstanceOf(AckErrorException.class, failure);
            assertTrue(failure.getMessage().contains("database down"), failure.getMessage());
            assertEquals(42, client.socket().emitWithAck("add", 2, 40).get(10, TimeUnit.SECONDS).get(0, int.class));
        }
    }

    @Test
    void serverAsksTheClientAndGetsItsAnswer() throws Exception {
        try (Inbox client = Inbox.open(server.webSocketUri(), "/", null)) {
            client.socket().on("question", event -> event.ack("answer to " + event.arg(0, String.class)));
            Arguments reply = serverSide(client).timeout(Duration.ofSeconds(5)).emitWithAck("question", "life")
                    .get(10, TimeUnit.SECONDS);
            assertEquals("answer to life", reply.get(0, String.class));
        }
    }

    @Test
    void unansweredAckTimesOut() throws Exception {
        try (Inbox client = Inbox.open(server.webSocketUri(), "/", null)) {
            client.socket().on("ignored", event -> { });
            Throwable failure = failureOf(serverSide(client).timeout(Duration.ofMillis(200)).emitWithAck("ignored"));
            assertInstanceOf(AckTimeoutException.class, failure);
        }
    }

    /**
     * An emit with ack whose arguments cannot be sent (no JSON for them) fails at the call, and
     * leaves nothing waiting: the socket may still be asked as many questions as before, and no
     * timeout is counted later for the question that never went.
     */
    @Test
    void anEmitWithAckThatCannotBeSentLeavesNoAckOwed() throws Exception {
        try (TestServer small = TestServer.start(TestServer.options().maxPendingAcks(2).build(), sb -> { });
             Inbox client = Inbox.open(small.webSocketUri(), "/", null)) {
            client.socket().on("question", event -> event.ack("answer"));
            client.socket().on("unanswered", event -> { });
            Socket socket = small.switchboard().root().sockets().get(client.socket().id());
            Unmappable noJson = new Unmappable();
            for (int i = 0; i < 2; i++) {
                assertThrows(IllegalArgumentException.class,
                        () -> socket.timeout(Duration.ofMillis(300)).emitWithAck("question", noJson));
            }
            assertEquals("answer", socket.emitWithAck("question").get(10, TimeUnit.SECONDS).get(0, String.class),
                    "the two that never went hold no place among the acks owed");
            // A question of the same timeout set after them times out after the two would have.
            assertInstanceOf(AckTimeoutException.class,
                    failureOf(socket.timeout(Duration.ofMillis(300)).emitWithAck("unanswered")));
            assertEquals(1, small.switchboard().metrics().ackTimeouts(), "only the question that went timed out");
        }
    }

    /** A value JSON-B cannot map: its one property cannot be read. */
    public static final class Unmappable {
        public String getName() {
            throw new IllegalStateException("not loaded");
        }
    }

    @Test
    void pendingAckFailsWhenTheSocketDisconnects() throws Exception {
        Inbox client = Inbox.open(server.webSocketUri(), "/", null);
        client.socket().on("ignored", event -> { });
        CompletableFuture<Arguments> reply = serverSide(client).timeout(Duration.ofSeconds(30)).emitWithAck("ignored");
        client.close();
        assertInstanceOf(AckFailedException.class, failureOf(reply));
    }

    @Test
    void broadcastCollectsOneAnswerPerRecipient() throws Exception {
        try (Inbox a = Inbox.open(server.webSocketUri(), "/", null);
             Inbox b = Inbox.open(server.webSocketUri(), "/", null);
             Inbox silent = Inbox.open(server.webSocketUri(), "/", null)) {
            a.socket().on("vote", event -> event.ack("yes"));
            b.socket().on("vote", event -> event.ack("no"));
            silent.socket().on("vote", event -> { });
            serverSide(a).join("voters");
            serverSide(b).join("voters");

            List<Arguments> answers = server.switchboard().to("voters").timeout(Duration.ofSeconds(5))
                    .emitWithAck("vote").get(10, TimeUnit.SECONDS);
            assertEquals(List.of("no", "yes"), answers.stream().map(x -> x.get(0, String.class)).sorted()
                    .collect(Collectors.toList()));

            // Long enough for the two that answer to be heard on a loaded machine; the silent one never is.
            Throwable late = failureOf(server.switchboard().root().timeout(Duration.ofSeconds(2)).emitWithAck("vote"));
            AckTimeoutException timeout = assertInstanceOf(AckTimeoutException.class, late);
            assertEquals(2, timeout.partialReplies().size(), "the two that answered are kept");
        }
    }
}
