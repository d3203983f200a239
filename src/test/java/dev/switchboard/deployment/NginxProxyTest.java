package dev.switchboard.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.server.Switchboard;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.EnginePolling;
import dev.switchboard.testing.Nginx;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two standalone nodes behind a real nginx, configured as docs/DEPLOY.md shows, round robin:
 * more clients than the per-address cap come through the one proxy, and the application sees
 * each client's own address; a long-polling Socket.IO client reaches its session's node.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class NginxProxyTest {
    private static TestServer node() {
        return TestServer.start(TestServer.options().maxConnections(100, 2).trustedProxies(List.of("127.0.0.1")).build(),
                NginxProxyTest::app);
    }

    private static void app(Switchboard switchboard) {
        switchboard.onConnection(socket -> {
            socket.emit("you", socket.handshake().remoteAddress());
            socket.on("echo", event -> event.ack(event.arg(0, String.class)));
        });
    }

    @Test
    void moreClientsThanThePerAddressCapAreServedThroughOneProxyEachSeenAtItsOwnAddress() throws Exception {
        try (TestServer first = node(); TestServer second = node();
             Nginx nginx = Nginx.start(List.of(first.port(), second.port()))) {
            List<RawTcp> clients = new ArrayList<>();
            try {
                // Six clients, three per node by round robin, past a cap of two per address.
                for (int i = 0; i < 6; i++) {
                    String address = "127.0.0." + (20 + i);
                    RawTcp client = RawTcp.open(nginx.port(), address);
                    clients.add(client);
                    assertEquals(address, client.firstArgumentOf("you", nginx.port(), ""), nginx.log());
                }
                // A client's own forwarding headers do not pass nginx as the server's truth.
                try (RawTcp spoofer = RawTcp.open(nginx.port(), "127.0.0.30")) {
                    assertEquals("127.0.0.30", spoofer.firstArgumentOf("you", nginx.port(),
                            "Forwarded: for=198.51.100.9\r\nX-Forwarded-For: 198.51.100.9\r\n"), nginx.log());
                }
                Await.until("the spoofer's connection gone", () ->
                        first.switchboard().connectionCount() + second.switchboard().connectionCount() == 6);
                assertEquals(3, first.switchboard().connectionCount());
                assertEquals(3, second.switchboard().connectionCount());
                // The Java client, through the same proxy.
                try (SwitchboardClient client = SwitchboardClient.connect(URI.create("ws://127.0.0.1:" + nginx.port() + "/switchboard"))) {
                    ClientSocket socket = client.socket();
                    assertEquals("through nginx", socket.emitWithAck("echo", "through nginx").get(10, TimeUnit.SECONDS).get(0, String.class));
                }
            } finally {
                for (RawTcp client : clients) {
                    client.close();
                }
            }
        }
    }

    /**
     * A Socket.IO client on long-polling through the same nginx: each request of its session is
     * a request of its own, which nginx must send to the node that holds the session (the other
     * answers "Session ID unknown"), while WebSockets stay spread over both nodes.
     */
    @Test
    void aLongPollingClientsRequestsAllReachTheNodeThatHoldsItsSession() throws Exception {
        try (TestServer first = node(); TestServer second = node();
             Nginx nginx = Nginx.start(List.of(first.port(), second.port()))) {
            String sid = EnginePolling.open(nginx.port(), "");
            URI session = EnginePolling.session(nginx.port(), sid);
            HttpResponse<String> connect = EnginePolling.post(session, "40");
            assertEquals(200, connect.statusCode(), connect.body());
            String answers = EnginePolling.get(session).body();
            assertTrue(answers.startsWith("40{\"sid\":"), answers);
            assertEquals("ok", EnginePolling.post(session, "421[\"echo\",\"polled through nginx\"]").body());
            for (int polls = 0; polls < 3 && !answers.contains("431[\"polled through nginx\"]"); polls++) {
                answers += EnginePolling.get(session).body();
            }
            assertTrue(answers.contains("431[\"polled through nginx\"]"), answers);
            assertEquals(1, first.switchboard().connectionCount() + second.switchboard().connectionCount());
        }
    }
}
