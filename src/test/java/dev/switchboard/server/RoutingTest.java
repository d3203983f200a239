package dev.switchboard.server;

import dev.switchboard.api.RemoteSocket;
import dev.switchboard.protocol.DisconnectReason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.Inbox;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every emit reaches exactly the sockets it targets: one socket, a user's tabs, rooms, everyone, everyone but one. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class RoutingTest {
    private TestServer server;
    private Inbox alice1;
    private Inbox alice2;
    private Inbox bob;
    private Inbox carol;

    @BeforeEach
    void start() {
        server = TestServer.start(sb -> {
            sb.use(socket -> socket.userId(socket.handshake().auth(Map.class).get("user").toString()));
            sb.of("/chat").use(socket -> socket.userId(socket.handshake().auth(Map.class).get("user").toString()));
        });
        alice1 = Inbox.open(server.webSocketUri(), "/", "alice");
        alice2 = Inbox.open(server.webSocketUri(), "/", "alice");
        bob = Inbox.open(server.webSocketUri(), "/", "bob");
        carol = Inbox.open(server.webSocketUri(), "/", "carol");
    }

    @AfterEach
    void stop() {
        for (Inbox inbox : List.of(alice1, alice2, bob, carol)) {
            inbox.close();
        }
        server.close();
    }

    private Socket serverSide(Inbox inbox) {
        return server.switchboard().root().sockets().get(inbox.socket().id());
    }

    private void fence() {
        server.switchboard().emit(Inbox.FENCE);
    }

    @Test
    void privateMessageReachesEveryTabOfItsUserAndNobodyElse() throws Exception {
        serverSide(bob).toUser("alice").emit("pm", "hi alice");
        fence();
        alice1.assertReceived("pm:hi alice");
        alice2.assertReceived("pm:hi alice");
        bob.assertReceived();
        carol.assertReceived();
    }

    @Test
    void oneSocketGetsWhatIsEmittedToIt() throws Exception {
        serverSide(carol).emit("direct", "only carol");
        fence();
        carol.assertReceived("direct:only carol");
        alice1.assertReceived();
        alice2.assertReceived();
        bob.assertReceived();
    }

    @Test
    void roomsExceptAndBroadcastReachExactlyTheRightSockets() throws Exception {
        serverSide(bob).join("r", "r2");
        serverSide(alice1).join("r");
        Switchboard sb = server.switchboard();

        sb.to("r").emit("room", 1);
        sb.to("r", "r2").emit("rooms", 2);
        sb.root().except("r").emit("except", 3);
        serverSide(bob).to("r").emit("from-bob", 4);
        serverSide(bob).broadcast().emit("all-but-bob", 5);
        sb.emit("everyone", 6);
        sb.to("r").except(bob.socket().id()).emit("room-minus-bob", 7);
        fence();

        bob.assertReceived("room:1", "rooms:2", "everyone:6");
        alice1.assertReceived("room:1", "rooms:2", "from-bob:4", "all-but-bob:5", "everyone:6", "room-minus-bob:7");
        alice2.assertReceived("except:3", "all-but-bob:5", "everyone:6");
        carol.assertReceived("except:3", "all-but-bob:5", "everyone:6");
    }

    @Test
    void namespacesAreIsolated() throws Exception {
        try (Inbox chatBob = Inbox.open(server.webSocketUri(), "/chat", "bob")) {
            Socket chatSide = server.switchboard().of("/chat").sockets().get(chatBob.socket().id());
            chatSide.join("r");
            serverSide(alice1).join("r");
            server.switchboard().emit("root-only", 1);
            server.switchboard().to("r").emit("root-room", 2);
            server.switchboard().of("/chat").toUser("alice").emit("chat-pm", 3);
            server.switchboard().of("/chat").to("r").emit("chat-room", 4);
            server.switchboard().of("/chat").emit(Inbox.FENCE);
            fence();
            chatBob.assertReceived("chat-room:4");
            alice1.assertReceived("root-only:1", "root-room:2");
            assertEquals(Set.of("r", chatBob.socket().id(), "user:bob"), new TreeSet<>(chatSide.rooms()));
        }
    }

    @Test
    void roomQueriesAndBulkOperations() throws Exception {
        Namespace root = server.switchboard().root();
        serverSide(bob).join("r");
        serverSide(carol).join("r");
        assertEquals(Set.of(bob.socket().id(), carol.socket().id()),
                root.in("r").fetchSockets().join().stream().map(RemoteSocket::id).collect(Collectors.toSet()));
        assertEquals(Set.of("alice"), root.toUser("alice").fetchSockets().join().stream().map(RemoteSocket::userId)
                .collect(Collectors.toSet()));

        assertEquals(2, root.in("r").count().join());
        assertTrue(root.rooms().join().containsAll(Set.of("r", "user:alice", bob.socket().id())), root.rooms().join().toString());

        root.toUser("alice").socketsJoin("admins").join();
        assertEquals(2, root.in("admins").count().join());
        root.in("r").socketsLeave("r").join();
        assertTrue(!root.adapter().rooms().join().contains("r"), "an emptied room vanishes");

        root.in("admins").disconnectSockets(false).join();
        fence();
        bob.assertReceived();
        assertEquals(2, root.sockets().size());
        assertTrue(root.adapter().rooms().join().stream().noneMatch(room -> room.equals("admins")));
    }

    @Test
    void aSocketThatHasLeftJoinsNothing() throws Exception {
        Socket carolSide = serverSide(carol);
        carolSide.join("r");
        CompletableFuture<DisconnectReason> ended = new CompletableFuture<>();
        carolSide.onDisconnect(ended::complete);
        carol.close();
        Namespace root = server.switchboard().root();
        // Not connected() turning false: that happens before the socket has left its rooms.
        ended.get(5, TimeUnit.SECONDS);
        // An application that still holds the socket (a late callback) must not leave a ghost member.
        carolSide.join("late");
        assertTrue(carolSide.rooms().isEmpty(), carolSide.rooms().toString());
        assertEquals(0, root.in("late").count().join());
        assertTrue(!root.rooms().join().contains("late") && !root.rooms().join().contains("r"), root.rooms().join().toString());
    }

    @Test
    void roomsJoinedByRefusingMiddlewareGoWithTheSocket() throws Exception {
        Namespace vault = server.switchboard().of("/vault").use(socket -> {
            socket.join("pending");
            throw new ConnectionRejectedException("no entry");
        });
        try (RawClient eve = server.raw()) {
            JsonObject answer = eve.connectNamespace("/vault", "{\"user\":\"eve\"}");
            assertEquals("connect_error", answer.getString("type"));
            assertEquals("no entry", answer.getString("message"));
        }
        assertTrue(vault.rooms().join().isEmpty(), vault.rooms().join().toString());
    }
}
