package dev.switchboard.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.client.ClientOptions;
import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.Nginx;
import dev.switchboard.testing.TestServer;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A rolling restart behind nginx: one of two nodes drains, its clients are told 1012 one after
 * another across the spread, and they reconnect through the same proxy to the other node, which
 * the draining one turns away with 503 meanwhile.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class RollingRestartTest {
    private static final int CLIENTS = 10;

    @Test
    void aDrainingNodeSendsItsClientsToTheOtherNodeSpreadOverTheWindow() throws Exception {
        List<Long> closedAt = new CopyOnWriteArrayList<>();
        Consumer<dev.switchboard.server.Switchboard> app = switchboard -> switchboard.onConnection(socket -> {
            socket.on("echo", event -> event.ack(event.arg(0, String.class)));
            socket.onDisconnect(reason -> {
                if (reason == DisconnectReason.SERVER_RESTARTING) {
                    closedAt.add(System.nanoTime());
                }
            });
        });
        try (TestServer draining = TestServer.start(app); TestServer staying = TestServer.start(app);
             Nginx nginx = Nginx.start(List.of(draining.port(), staying.port()))) {
            URI uri = URI.create("ws://127.0.0.1:" + nginx.port() + "/switchboard");
            ClientOptions options = ClientOptions.builder()
                    .reconnectionDelay(Duration.ofMillis(50)).reconnectionDelayMax(Duration.ofMillis(200)).build();
            Map<Integer, List<String>> reasons = new ConcurrentHashMap<>();
            List<SwitchboardClient> clients = new ArrayList<>();
            List<ClientSocket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    SwitchboardClient client = SwitchboardClient.connect(uri, options);
                    clients.add(client);
                    List<String> seen = reasons.computeIfAbsent(i, key -> new CopyOnWriteArrayList<>());
                    ClientSocket socket = client.socket().onDisconnect(seen::add);
                    sockets.add(socket);
                    assertEquals("before", socket.emitWithAck("echo", "before").get(10, TimeUnit.SECONDS).get(0, String.class));
                }
                int onDrainingNode = draining.switchboard().connectionCount();
                assertTrue(onDrainingNode > 0 && onDrainingNode < CLIENTS, onDrainingNode + " of " + CLIENTS + " on the draining node");

                long start = System.nanoTime();
                assertTrue(draining.switchboard().drain(Duration.ofSeconds(1), Duration.ofSeconds(10)).get(20, TimeUnit.SECONDS),
                        "the drained node emptied before its deadline");
                Await.until("every client on the other node", () -> staying.switchboard().connectionCount() == CLIENTS);
                for (ClientSocket socket : sockets) {
                    Await.until("reconnected", socket::connected);
                    assertEquals("after", socket.emitWithAck("echo", "after").get(10, TimeUnit.SECONDS).get(0, String.class));
                }
                long told = reasons.values().stream().filter(seen -> seen.contains("server restarting")).count();
                assertEquals(onDrainingNode, told, "the drained node's clients were told to reconnect: " + reasons);
                assertEquals(onDrainingNode, closedAt.size());
                List<String> offsets = closedAt.stream().sorted().map(at -> (at - start) / 1_000_000 + " ms").toList();
                System.out.println("figure: drain of " + onDrainingNode + " connections over 1 s: 1012 sent at " + offsets);
            } finally {
                clients.forEach(SwitchboardClient::close);
            }
        }
    }
}
