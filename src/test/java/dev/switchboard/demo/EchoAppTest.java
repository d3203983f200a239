package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.client.AckErrorException;
import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The {@code /echo} namespace's {@code ask}: its own ack is always answered, with the client's
 * answer to the question, or with an error when the question failed.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class EchoAppTest {
    /** The server's ack timeout, short so that a question nobody answers fails quickly. */
    private static final Duration ACK_TIMEOUT = Duration.ofMillis(300);
    /** How long the client waits for {@code ask}'s answer: far longer than the server's timeout. */
    private static final Duration CLIENT_WAIT = Duration.ofSeconds(10);
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.options().ackTimeout(ACK_TIMEOUT).build(), EchoApp::install);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static ClientSocket echoSocket(SwitchboardClient client) throws Exception {
        ClientSocket socket = client.socket(EchoApp.NAMESPACE);
        socket.whenConnected().get(10, TimeUnit.SECONDS);
        return socket;
    }

    @Test
    void askAcksWithTheClientsAnswer() throws Exception {
        try (SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri())) {
            ClientSocket socket = echoSocket(client);
            socket.on("question", event -> event.ack("forty-two"));
            String answer = socket.timeout(CLIENT_WAIT).emitWithAck("ask", "meaning?")
                    .get(CLIENT_WAIT.toMillis(), TimeUnit.MILLISECONDS).get(0, String.class);
            assertEquals("forty-two", answer);
        }
    }

    @Test
    void askAcksWithAnErrorWhenTheQuestionIsNeverAnswered() throws Exception {
        try (SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri())) {
            ClientSocket socket = echoSocket(client);
            socket.on("question", event -> { });   // heard, never answered
            ExecutionException failed = assertThrows(ExecutionException.class, () -> socket.timeout(CLIENT_WAIT)
                    .emitWithAck("ask", "anyone?").get(CLIENT_WAIT.toMillis() * 2, TimeUnit.MILLISECONDS));
            AckErrorException error = assertInstanceOf(AckErrorException.class, failed.getCause(),
                    "the server's error, not the client's own timeout");
            assertTrue(error.getMessage().startsWith("ask failed: no ack for 'question'"), error.getMessage());
            assertEquals("still here", socket.emitWithAck("echo", "still here").get(10, TimeUnit.SECONDS).get(0, String.class));
        }
    }

    @Test
    void askAcksWithAnErrorWhenTheClientAnswersTheQuestionWithOne() {
        try (RawClient client = server.raw()) {
            client.connectNamespace(EchoApp.NAMESPACE, null);
            client.sendJson("{'type':'event','nsp':'/echo','event':'ask','args':['why?'],'ack':7}");
            JsonObject question = client.next("event");
            assertEquals("question", question.getString("event"));
            client.send("{\"type\":\"ack\",\"nsp\":\"/echo\",\"ack\":" + question.getJsonNumber("ack") + ",\"error\":{\"message\":\"no idea\"}}");
            JsonObject answer = client.next("ack");
            assertEquals(7, answer.getInt("ack"));
            String message = answer.getJsonObject("error").getString("message");
            assertTrue(message.startsWith("ask failed: ") && message.contains("no idea"), message);
        }
    }
}
