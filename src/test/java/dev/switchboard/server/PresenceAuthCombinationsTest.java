package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.api.PresentUser;
import dev.switchboard.auth.JwtAuth;
import dev.switchboard.auth.TokenVerifier;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.Inbox;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.Tokens;
import dev.switchboard.testing.VirtualTime;
import jakarta.json.JsonObject;
import java.net.URI;
import java.time.Duration;
import java.util.Date;
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

    /**
     * A clock that is not on a whole millisecond, as a real one seldom is, while tokens expire on
     * whole seconds: Ana, who gives no fresh token, must still end at her token's expiry, and
     * leave the room's presence then.
     */
    @Test
    void aUserWhoseTokenExpiresIsCutOffAndLeavesThePresence() throws Exception {
        VirtualTime time = new VirtualTime();
        time.advance(Duration.ofNanos(500_000));
        Tokens tokens = new Tokens(time.clock());
        // Pings would need answers within no time at all: virtual time moves in steps. Timers'
        // callbacks run as they fall due, at their own time, as on a real clock.
        SwitchboardOptions options = TestServer.options().clock(time.clock()).scheduler(time)
                .callbackExecutor(Runnable::run).pingInterval(Duration.ofHours(1)).build();
        try (TestServer server = TestServer.start(options, sb -> {
            root = sb.root();
            JwtAuth.install(root, TokenVerifier.builder().hmacSecret(Tokens.SECRET)
                    .issuer(Tokens.ISSUER).audience(Tokens.AUDIENCE).build());
            root.trackPresence(ROOM::equals);
            root.onConnection(socket -> socket.join(ROOM));
        });
             RawClient pedro = server.raw();
             RawClient ana = server.raw()) {
            pedro.next("hello");
            String pedrosToken = tokens.hmac("pedro", claims -> claims.expirationTime(
                    Date.from(time.clock().instant().plus(Duration.ofHours(2)))));
            assertEquals("connect", pedro.connectNamespace("/", "{\"token\":\"" + pedrosToken + "\"}").getString("type"));
            ana.next("hello");
            assertEquals("connect", ana.connectNamespace("/", "{\"token\":\"" + tokens.hmac("ana") + "\"}").getString("type"));
            Await.until("Ana present", () -> root.presence(ROOM).join().size() == 2);

            time.advance(Tokens.LIFETIME.plusSeconds(1));
            JsonObject end = ana.next("disconnect");
            assertEquals("token expired", end.getString("reason"));
            JsonObject leave = pedro.next(packet -> "presence:leave".equals(packet.getString("event", null)));
            assertEquals("ana", leave.getJsonArray("args").getJsonObject(0).getJsonObject("user").getString("userId"));
            assertEquals(List.of("pedro"), root.presence(ROOM).join().stream().map(PresentUser::userId).toList());
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
