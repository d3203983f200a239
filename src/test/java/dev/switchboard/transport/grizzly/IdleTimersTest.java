package dev.switchboard.transport.grizzly;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.server.Switchboard;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The standalone server's WebSocket sessions have an idle timeout that never falls due
 * ({@code TyrusContainer.NEVER}): the heartbeat decides when a connection is dead. Tyrus restarts
 * that timer on every message; with the timeout off it would run a task per message on a thread of
 * its own, so here no timer ever runs, and the timers hold one entry per open session: those of
 * sessions that ended, cleanly or by a dropped TCP connection, are gone.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class IdleTimersTest {
    private static final int ECHOES = 50;

    @Test
    void messagesRunNoIdleTimerAndEndedSessionsLeaveNone() {
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
            assertEquals(3, container.pendingIdleTimers(), "one idle timer per open session");
            assertEquals(0, container.idleTimersRun(), "idle timers run");

            leaves.leave();
            drops.abort();
            Await.until("the ended sessions' idle timers are gone", () -> container.pendingIdleTimers() == 1);
            assertEquals(0, container.idleTimersRun(), "idle timers run");
        } finally {
            server.close();
        }
    }
}
