package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import jakarta.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Each hook the application gives the server, made to throw, through real sockets: the client
 * gets the answer that fits, its connection stays up, the other recipients of a broadcast still
 * get it, and {@link Metrics#listenerFailures()} counts the failure.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ThrowingListenerTest {
    private static final String NSP = "/hooks";

    private TestServer server;

    private RawClient start(SwitchboardOptions options, Consumer<Namespace> app) {
        server = TestServer.start(options, sb -> {
            Namespace hooks = sb.of(NSP);
            hooks.onConnection(socket -> socket.on("alive", event -> event.ack("yes")));
            app.accept(hooks);
        });
        return server.raw();
    }

    private RawClient start(Consumer<Namespace> app) {
        return start(TestServer.options().build(), app);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private long failures() {
        return server.switchboard().metrics().listenerFailures();
    }

    private static IllegalStateException boom() {
        return new IllegalStateException("boom");
    }

    private static JsonObject ask(RawClient client, String event, int ack) {
        send(client, event, ack);
        return answer(client, ack);
    }

    private static void send(RawClient client, String event, int ack) {
        client.sendJson("{'type':'event','nsp':'" + NSP + "','event':'" + event + "','args':[],'ack':" + ack + "}");
    }

    private static JsonObject answer(RawClient client, int ack) {
        return client.next(packet -> "ack".equals(packet.getString("type")) && packet.getInt("ack") == ack);
    }

    private static void assertFailed(JsonObject ack) {
        assertEquals("listener failed: java.lang.IllegalStateException: boom",
                ack.getJsonObject("error").getString("message"), ack.toString());
    }

    /** The socket still answers: its connection and its listeners are intact. */
    private static void assertAlive(RawClient client, int ack) {
        JsonObject answer = ask(client, "alive", ack);
        assertEquals("yes", answer.getJsonArray("args").getString(0), answer.toString());
    }

    @Test
    void middlewareThatThrowsRefusesWithServerErrorAndTheConnectionStaysUp() {
        try (RawClient client = start(hooks -> hooks.use(socket -> {
            if (socket.handshake().auth(Object.class) == null) {
                throw boom();
            }
            throw new ConnectionRejectedException("no entry");
        }))) {
            JsonObject failed = client.connectNamespace(NSP, null);
            assertEquals("connect_error", failed.getString("type"));
            assertEquals("server error", failed.getString("message"));
            assertEquals(1, failures());

            JsonObject rejected = client.connectNamespace(NSP, "{}");
            assertEquals("no entry", rejected.getString("message"), "a rejection is an answer, not a failure");
            assertEquals(1, failures());
            assertEquals("connect", client.connectNamespace("/", null).getString("type"));
        }
    }

    @Test
    void connectionListenerThatThrowsLeavesTheSocketConnectedAndTheNextListenersRun() {
        try (RawClient client = start(hooks -> {
            hooks.onConnection(socket -> {
                throw boom();
            });
            hooks.onConnection(socket -> socket.on("later", event -> event.ack("ran")));
        })) {
            assertEquals("connect", client.connectNamespace(NSP, null).getString("type"));
            assertEquals("ran", ask(client, "later", 1).getJsonArray("args").getString(0));
            assertAlive(client, 2);
            assertEquals(1, failures());
        }
    }

    @Test
    void onAndOnceListenersThatThrowFailTheirEventOnly() {
        try (RawClient client = start(hooks -> hooks.onConnection(socket -> {
            socket.on("bad", event -> {
                throw boom();
            });
            socket.once("bad-once", event -> {
                throw boom();
            });
        }))) {
            client.connectNamespace(NSP, null);
            assertFailed(ask(client, "bad", 1));
            assertFailed(ask(client, "bad-once", 2));
            JsonObject afterOnce = ask(client, "bad-once", 3);
            assertFalse(afterOnce.containsKey("error"), "the once listener is gone: " + afterOnce);
            assertAlive(client, 4);
            assertEquals(2, failures());
        }
    }

    @Test
    void onAnyListenerThatThrowsFailsItsEvent() {
        try (RawClient client = start(hooks -> hooks.onConnection(socket -> socket.onAny((event, args) -> {
            if (event.equals("audited")) {
                throw boom();
            }
        })))) {
            client.connectNamespace(NSP, null);
            assertFailed(ask(client, "audited", 1));
            assertAlive(client, 2);
            assertEquals(1, failures());
        }
    }

    @Test
    void onAnyOutgoingThatThrowsOnOneRecipientDoesNotStopTheBroadcast() {
        AtomicInteger setUp = new AtomicInteger();
        try (RawClient thrower = start(hooks -> hooks.onConnection(socket -> {
            // The client that asks for it (not the first to connect: connection listeners run
            // after the connect answer, on each connection's thread, in no order between them).
            if (socket.handshake().auth(Object.class) != null) {
                socket.onAnyOutgoing((event, args) -> {
                    throw boom();
                });
            }
            socket.on("shout", event -> {
                hooks.emit("news", "hello");
                event.ack("sent");
            });
            setUp.incrementAndGet();
        }));
             RawClient second = server.raw();
             RawClient third = server.raw()) {
            thrower.connectNamespace(NSP, "{\"throws\":true}");
            second.connectNamespace(NSP, null);
            third.connectNamespace(NSP, null);
            Await.until("every socket set up", () -> setUp.get() == 3);
            send(second, "shout", 1);
            for (RawClient client : List.of(thrower, second, third)) {
                JsonObject news = client.next(packet -> "news".equals(packet.getString("event", null)));
                assertEquals("hello", news.getJsonArray("args").getString(0));
            }
            JsonObject sent = answer(second, 1);
            assertEquals("sent", sent.getJsonArray("args").getString(0), "the emitting listener went on: " + sent);
            assertAlive(thrower, 2);
            assertEquals(1, failures());
        }
    }

    @Test
    void disconnectListenersThatThrowStillLetTheSocketEndAndTheConnectionGoOn() throws InterruptedException {
        BlockingQueue<String> reasons = new LinkedBlockingQueue<>();
        try (RawClient client = start(hooks -> hooks.onConnection(socket -> {
            if (socket.handshake().auth(Object.class) != null) {
                return;
            }
            socket.onDisconnecting(reason -> {
                throw boom();
            });
            socket.onDisconnect(reason -> {
                throw new NoClassDefFoundError("a class the listener needs");
            });
            socket.onDisconnect(reason -> reasons.add(reason.text()));
        }))) {
            client.connectNamespace(NSP, null);
            client.sendJson("{'type':'disconnect','nsp':'" + NSP + "'}");
            assertEquals(DisconnectReason.CLIENT_DISCONNECT.text(), reasons.poll(10, TimeUnit.SECONDS));
            assertTrue(server.switchboard().of(NSP).sockets().isEmpty(), "the socket ended");
            assertEquals(2, failures());

            assertEquals("connect", client.connectNamespace(NSP, "{}").getString("type"));
            assertAlive(client, 1);
        }
    }

    @Test
    void sessionExpiryListenerThatThrowsStillFreesTheSession() throws InterruptedException {
        BlockingQueue<String> expired = new LinkedBlockingQueue<>();
        SwitchboardOptions options = TestServer.options().recoveryWindow(Duration.ofMillis(200)).build();
        try (RawClient gone = start(options, hooks -> {
            hooks.onSessionExpired(session -> {
                throw boom();
            });
            hooks.onSessionExpired(session -> expired.add(session.id()));
        });
             RawClient staying = server.raw()) {
            String id = gone.connectNamespace(NSP, null).getString("id");
            staying.connectNamespace(NSP, null);
            gone.abort();
            assertEquals(id, expired.poll(10, TimeUnit.SECONDS));
            assertTrue(server.switchboard().of(NSP).detachedSessions().isEmpty(), "the session was freed");
            assertEquals(1, failures());
            assertAlive(staying, 1);
        }
    }

    /**
     * The application chains on the ack's future, which keeps what its stages throw: nothing
     * reaches the server, so nothing is logged or counted, and the failure waits in the stage.
     */
    @Test
    void anAckStageThatThrowsKeepsItsFailureToItself() throws Exception {
        BlockingQueue<CompletableFuture<Void>> stages = new LinkedBlockingQueue<>();
        try (RawClient client = start(hooks -> hooks.onConnection(socket ->
                stages.add(socket.emitWithAck("question").thenAccept(reply -> {
                    throw boom();
                }))))) {
            client.connectNamespace(NSP, null);
            JsonObject question = client.next(packet -> "question".equals(packet.getString("event", null)));
            client.sendJson("{'type':'ack','nsp':'" + NSP + "','ack':" + question.getInt("ack") + ",'args':['yes']}");
            CompletableFuture<Void> stage = stages.poll(10, TimeUnit.SECONDS);
            ExecutionException failure = assertThrows(ExecutionException.class, () -> stage.get(10, TimeUnit.SECONDS));
            assertInstanceOf(IllegalStateException.class, failure.getCause());
            assertAlive(client, 1);
            assertEquals(0, failures());
        }
    }
}
