package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.api.PresentUser;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.Inbox;
import dev.switchboard.testing.TestServer;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Presence combined with what changes a socket's user or its session: the diffs the other members
 * hear, and the presence the server reports, through real sockets.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class PresenceAuthCombinationsTest {
    private static final String ROOM = "lobby";

    /** What the test clients send as auth. */
    public record Login(String user) {
    }

    private Namespace root;

    private TestServer start(SwitchboardOptions options) {
        return TestServer.start(options, sb -> {
            root = sb.root();
            root.use(socket -> socket.userId(socket.handshake().auth(Login.class).user()));
            root.trackPresence(ROOM::equals);
            root.onConnection(socket -> {
                socket.on("login", event -> {
                    socket.userId(event.arg(0, String.class));
                    event.ack();
                });
                socket.join(ROOM);
            });
        });
    }

    @Test
    void aConnectedSocketThatLogsInAsAnotherUserShowsAsThatUser() throws Exception {
        try (TestServer server = start(TestServer.options().build());
             Inbox pedro = tab(server.webSocketUri(), "Pedro");
             Inbox guest = tab(server.webSocketUri(), "guest-1")) {
            fence(server);
            pedro.presenceUntilFence();
            guest.presenceUntilFence();

            guest.socket().emitWithAck("login", "Ana").get(10, TimeUnit.SECONDS);
            Await.until("Pedro sees Ana", () -> pedro.socket().presence(ROOM).member("Ana") != null);
            fence(server);
            assertEquals(List.of("join:Ana", "leave:guest-1"), pedro.presenceUntilFence());
            assertEquals(List.of(new PresentUser("Ana", Map.of(), false), new PresentUser("Pedro", Map.of(), false)),
                    root.presence(ROOM).join());
        }
    }

    /** A tab of {@code user}, once it is in the room: it sees itself there. */
    private static Inbox tab(URI uri, String user) {
        Inbox tab = Inbox.open(uri, "/", user);
        Await.until(user + " in the room", () -> tab.socket().presence(ROOM).member(user) != null);
        return tab;
    }

    private static void fence(TestServer server) {
        server.switchboard().root().emit(Inbox.FENCE);
    }
}
