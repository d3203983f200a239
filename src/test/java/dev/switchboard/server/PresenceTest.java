package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.switchboard.api.PresentUser;
import dev.switchboard.client.PresenceMember;
import dev.switchboard.client.RoomPresence;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.Inbox;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.VirtualTime;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Presence through real sockets: Java clients with several tabs per user, a room tracked on the
 * server, the diffs each client hears (up to a fence) and the presence set the client keeps.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class PresenceTest {
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
                socket.presenceInfo(Map.of("tab", socket.handshake().auth(Login.class).user()));
                socket.join(ROOM, "untracked");
            });
        });
    }

    @Test
    void usersShowOnceHowManyTabsTheyHaveAndLateJoinersGetTheListThenDiffs() throws Exception {
        try (TestServer server = start(TestServer.options().build());
             Inbox ana = tab(server.webSocketUri(), "Ana")) {
            fence(server);
            assertEquals(List.of("list:Ana"), ana.presenceUntilFence());

            try (Inbox pedro = tab(server.webSocketUri(), "Pedro")) {
                fence(server);
                assertEquals(List.of("join:Pedro"), ana.presenceUntilFence());
                assertEquals(List.of("list:Ana,Pedro"), pedro.presenceUntilFence(), "a late joiner gets the list once");
                RoomPresence pedroSees = pedro.socket().presence(ROOM);
                assertEquals(List.of("Ana", "Pedro"), pedro.members(ROOM));

                try (Inbox anaSecondTab = tab(server.webSocketUri(), "Ana");
                     Inbox anaThirdTab = tab(server.webSocketUri(), "Ana")) {
                    fence(server);
                    assertEquals(List.of(), pedro.presenceUntilFence(), "another tab of a present user is no news");
                    assertEquals(List.of(), ana.presenceUntilFence());
                    assertEquals(List.of("list:Ana,Pedro"), anaSecondTab.presenceUntilFence());
                    assertEquals(2, root.presence(ROOM).join().size(), "each user once: " + root.presence(ROOM).join());
                    anaThirdTab.socket().disconnect();
                    Await.until("the tab closed", () -> server.switchboard().root().sockets().size() == 3);
                    fence(server);
                    assertEquals(List.of(), pedro.presenceUntilFence(), "closing one of three tabs is no news");
                }
                Await.until("two tabs closed", () -> server.switchboard().root().sockets().size() == 2);
                fence(server);
                assertEquals(List.of(), pedro.presenceUntilFence());
                ana.socket().disconnect();
                Await.until("Ana gone", () -> pedroSees.member("Ana") == null);
                fence(server);
                assertEquals(List.of("leave:Ana"), pedro.presenceUntilFence(), "the last tab leaving is");
                assertEquals(List.of("Pedro"), pedro.members(ROOM));
                assertEquals(List.of(new PresentUser("Pedro", Map.of("tab", "Pedro"), false)), root.presence(ROOM).join());
            }
        }
    }

    @Test
    void aDroppedUserIsAwayThenBackWhenItRecovers() throws Exception {
        try (TestServer server = start(TestServer.options().build());
             CuttableProxy network = new CuttableProxy(server.port());
             Inbox pedro = tab(server.webSocketUri(), "Pedro");
             Inbox ana = tab(network.webSocketUri(), "Ana")) {
            fence(server);
            pedro.presenceUntilFence();
            ana.presenceUntilFence();
            RoomPresence pedroSees = pedro.socket().presence(ROOM);

            network.cut();
            Await.until("Ana away", () -> pedroSees.member("Ana") != null && pedroSees.member("Ana").away());
            assertEquals(List.of(new PresentUser("Ana", Map.of("tab", "Ana"), true),
                    new PresentUser("Pedro", Map.of("tab", "Pedro"), false)), root.presence(ROOM).join());
            Await.until("Ana back", () -> ana.socket().connected() && !pedroSees.member("Ana").away());
            fence(server);
            assertEquals(List.of("away:Ana", "back:Ana"), pedro.presenceUntilFence());
            assertEquals(true, ana.socket().recovered());
            assertEquals(List.of("away:Ana", "back:Ana"), ana.presenceUntilFence(),
                    "a recovered client gets what it missed, and no second list");
            assertEquals(List.of("Ana", "Pedro"), ana.members(ROOM));
        }
    }

    @Test
    void aDroppedUserLeavesOnlyWhenItsRecoveryWindowEnds() throws Exception {
        VirtualTime time = new VirtualTime();
        // Pings would need answers within no time at all: the window passes in one step.
        SwitchboardOptions options = TestServer.options().clock(time.clock()).scheduler(time)
                .pingInterval(Duration.ofHours(1)).recoveryWindow(Duration.ofMinutes(2)).build();
        try (TestServer server = start(options);
             CuttableProxy network = new CuttableProxy(server.port());
             Inbox pedro = tab(server.webSocketUri(), "Pedro");
             Inbox ana = tab(network.webSocketUri(), "Ana")) {
            fence(server);
            pedro.presenceUntilFence();
            network.refuse(true);
            network.cut();
            RoomPresence pedroSees = pedro.socket().presence(ROOM);
            Await.until("Ana away", () -> pedroSees.member("Ana").away());
            time.advance(Duration.ofSeconds(119));
            fence(server);
            assertEquals(List.of("away:Ana"), pedro.presenceUntilFence(), "no leave at the drop, nor before the window ends");
            time.advance(Duration.ofSeconds(1));
            Await.until("Ana gone", () -> pedroSees.member("Ana") == null);
            assertEquals(List.of(), server.switchboard().root().detachedSessions().values().stream().toList());
            fence(server);
            assertEquals(List.of("leave:Ana"), pedro.presenceUntilFence());
        }
    }

    @Test
    void infoIsSmallAndItsChangesAreDiffsToo() throws Exception {
        try (TestServer server = start(TestServer.options().build());
             Inbox ana = tab(server.webSocketUri(), "Ana");
             Inbox pedro = tab(server.webSocketUri(), "Pedro")) {
            fence(server);
            ana.presenceUntilFence();
            root.presenceInfo("Pedro", Map.of("status", "busy"));
            Await.until("Pedro busy", () -> !ana.socket().presence(ROOM).member("Pedro").info().isEmpty()
                    && ana.socket().presence(ROOM).member("Pedro").info().containsKey("status"));
            fence(server);
            assertEquals(List.of("update:Pedro"), ana.presenceUntilFence());
            assertEquals(new PresenceMember("Pedro", Map.of("status", "busy"), false),
                    ana.socket().presence(ROOM).member("Pedro"));
            assertThrows(IllegalArgumentException.class, () -> root.presenceInfo("Pedro", Map.of("bio", "x".repeat(2000))));
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
