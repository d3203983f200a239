package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.Inbox;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** once, off, onAny, onAnyOutgoing, and volatile emits that skip clients who are behind. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ListenerTest {

    @Test
    void onceOffAndCatchAllListeners() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        BlockingQueue<Socket> sockets = new LinkedBlockingQueue<>();
        try (TestServer server = TestServer.start(sb -> sb.onConnection(socket -> {
            socket.once("greet", event -> seen.add("once:" + event.arg(0, String.class)));
            EventListener removed = event -> seen.add("removed");
            socket.on("greet", removed);
            socket.off("greet", removed);
            socket.onAny((event, args) -> seen.add("any:" + event));
            socket.onAnyOutgoing((event, args) -> seen.add("out:" + event));
            socket.on("done", event -> event.ack());
            sockets.add(socket);
        }));
             Inbox client = Inbox.open(server.webSocketUri(), "/", null)) {
            client.socket().emit("greet", "first");
            client.socket().emit("greet", "second");
            client.socket().emitWithAck("done").get(10, TimeUnit.SECONDS);
            sockets.take().emit("reply", 1);
            assertEquals("reply:1", client.next());
            assertEquals(List.of("any:greet", "once:first", "any:greet", "any:done", "out:reply"), seen);
        }
    }

    @Test
    void volatileEmitsAreDroppedForAClientThatIsBehind() throws Exception {
        try (TestServer server = TestServer.start(sb -> { });
             RawClient behind = server.raw();
             RawClient keepingUp = server.raw()) {
            String behindId = behind.connectNamespace("/", null).getString("id");
            keepingUp.connectNamespace("/", null);
            // By its id: the two connection listeners run on their own connections' threads, in
            // either order, so the first socket they report may be the other client's.
            Socket slow = server.switchboard().root().sockets().get(behindId);
            behind.stopReading();
            String big = "b".repeat(64 * 1024);
            long dropsBefore = server.switchboard().metrics().droppedVolatile();
            for (int i = 0; i < 100 && server.switchboard().connections().stream().allMatch(c -> c.queuedBytes() < 256 * 1024); i++) {
                slow.emit("backlog", big);
            }
            // The writer may have taken everything queued into one gathering write, now stalled
            // on the full socket: one more frame waits behind it, as it would on a busy server.
            slow.emit("backlog", "");
            server.switchboard().root().asVolatile().emit("cursor", 1);
            assertTrue(server.switchboard().metrics().droppedVolatile() > dropsBefore, "the lagging client's copy was dropped");
            assertEquals("cursor", keepingUp.next("event").getString("event"), "the others still get it");
            behind.abort();
        }
    }
}
