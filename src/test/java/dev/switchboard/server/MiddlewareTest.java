package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.client.ClientOptions;
import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.ConnectErrorException;
import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.testing.TestServer;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Middleware sees the handshake and decides; a refused client gets connect_error and the app never sees it. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class MiddlewareTest {
    public record Login(String user, String token) {
    }

    private static final BlockingQueue<String> CONNECTED = new LinkedBlockingQueue<>();
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(sb -> sb.of("/secure")
                .use(socket -> {
                    Login login = socket.handshake().auth(Login.class);
                    if (login == null || !"s3cret".equals(login.token())) {
                        throw new ConnectionRejectedException("invalid token", Map.of("retry", false));
                    }
                    socket.userId(login.user());
                    socket.data().put("via", socket.handshake().query("via") + "/" + socket.handshake().header("X-Client"));
                })
                .onConnection(socket -> CONNECTED.add(socket.userId() + " via " + socket.data().get("via"))));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void rejectionReachesTheClientAsConnectErrorAndNeverTheApplication() throws Exception {
        try (SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(),
                ClientOptions.builder().reconnection(false).build())) {
            ClientSocket refused = client.socket("/secure", new Login("mallory", "guess"));
            Throwable failure = assertThrows(ExecutionException.class,
                    () -> refused.whenConnected().get(10, TimeUnit.SECONDS)).getCause();
            ConnectErrorException error = assertInstanceOf(ConnectErrorException.class, failure);
            assertEquals("invalid token", error.error().message());
            assertEquals("{\"retry\":false}", error.error().data().text());
        }
        acceptedSocketCarriesUserDataAndHandshake();
        assertTrue(CONNECTED.isEmpty(), "only the accepted socket reached the application: " + CONNECTED);
    }

    @Test
    void acceptedSocketCarriesUserDataAndHandshake() throws Exception {
        try (SwitchboardClient client = SwitchboardClient.connect(URI.create(server.webSocketUri() + "?via=test"),
                ClientOptions.builder().header("X-Client", "kiosk-7").build())) {
            client.socket("/secure", new Login("maciel", "s3cret")).whenConnected().get(10, TimeUnit.SECONDS);
            assertEquals("maciel via test/kiosk-7", CONNECTED.poll(10, TimeUnit.SECONDS));
            Socket socket = server.switchboard().of("/secure").sockets().values().iterator().next();
            assertTrue(socket.rooms().containsAll(List.of(socket.id(), "user:maciel")));
            assertTrue(String.valueOf(socket.handshake().remoteAddress()).contains("127.0.0.1"),
                    String.valueOf(socket.handshake().remoteAddress()));
        }
    }
}
