package dev.switchboard.transport.grizzly;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.server.Switchboard;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import jakarta.websocket.OnMessage;
import jakarta.websocket.OnOpen;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.glassfish.grizzly.http.server.HttpServer;
import org.glassfish.grizzly.http.server.NetworkListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The standalone server's WebSocket sessions have an idle timeout that never falls due
 * ({@code TyrusContainer.NEVER}): the heartbeat decides when a connection is dead. Tyrus restarts
 * that timer on every message; with the timeout off it would run a task per message on a thread of
 * its own, and a timer that never falls due is not queued at all. A session given a timeout of its
 * own gets real timers, and the cancelled ones leave the queue at once.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class IdleTimersTest {
    private static final int ECHOES = 50;

    @Test
    void messagesRunNoIdleTimerAndQueueNone() {
        Switchboard switchboard = Switchboard.create(TestServer.options().build());
        switchboard.onConnection(socket -> socket.on("echo", event -> event.ack(event.args().list().toArray())));
        StandaloneServer server = StandaloneServer.start(switchboard, StandaloneOptions.builder().webRoot(Path.of("webapp")).build());
        try (RawClient stays = RawClient.connect(server.webSocketUri());
             RawClient leaves = RawClient.connect(server.webSocketUri());
             RawClient drops = RawClient.connect(server.webSocketUri())) {
            for (RawClient client : new RawClient[] {stays, leaves, drops}) {
                client.connectNamespace("/", null);
                for (int i = 1; i <= ECHOES; i++) {
                    client.sendJson("{'type':'event','event':'echo','args':[" + i + "],'ack':" + i + "}");
                }
                for (int i = 1; i <= ECHOES; i++) {
                    int id = i;
                    client.next(packet -> "ack".equals(packet.getString("type", "")) && packet.getInt("ack", -1) == id);
                }
            }
            TyrusContainer container = server.container();
            assertEquals(0, container.pendingIdleTimers(), "idle timers queued");
            assertEquals(0, container.idleTimersRun(), "idle timers run");

            leaves.leave();
            drops.abort();
            stays.sendJson("{'type':'event','event':'echo','args':[0],'ack':" + (ECHOES + 1) + "}");
            stays.next("ack");
            assertEquals(0, container.pendingIdleTimers(), "idle timers queued");
            assertEquals(0, container.idleTimersRun(), "idle timers run");
        } finally {
            server.close();
        }
    }

    @Test
    void sessionsWithATimeoutOfTheirOwnHoldOneTimerEachAndLeaveNone() throws Exception {
        HttpServer http = new HttpServer();
        NetworkListener listener = new NetworkListener("idle-timers", InetAddress.getLoopbackAddress().getHostAddress(), 0);
        http.addListener(listener);
        TyrusContainer container = new TyrusContainer(Set.of(TimedEcho.class), 64 * 1024);
        listener.registerAddOn(container.addOn());
        http.start();
        container.start("", listener.getPort());
        URI uri = URI.create("ws://127.0.0.1:" + listener.getPort() + "/timed-echo");
        try (RawClient stays = RawClient.connect(uri); RawClient leaves = RawClient.connect(uri)) {
            for (RawClient client : new RawClient[] {stays, leaves}) {
                for (int i = 1; i <= ECHOES; i++) {
                    client.send("m" + i);
                }
                for (int i = 1; i <= ECHOES; i++) {
                    assertEquals("m" + i, client.next());
                }
            }
            assertEquals(2, container.pendingIdleTimers(), "one idle timer per open session");

            leaves.leave();
            Await.until("the ended session's idle timer is gone", () -> container.pendingIdleTimers() == 1);
            assertEquals(0, container.idleTimersRun(), "idle timers run");
        } finally {
            container.stop();
            http.shutdownNow();
        }
    }

    /** A plain endpoint whose sessions time out after a minute idle. */
    @ServerEndpoint("/timed-echo")
    public static class TimedEcho {
        @OnOpen
        public void open(Session session) {
            session.setMaxIdleTimeout(TimeUnit.MINUTES.toMillis(1));
        }

        @OnMessage
        public String echo(String text) {
            return text;
        }
    }
}
