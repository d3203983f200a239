package dev.switchboard.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.server.Switchboard;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.Nginx;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two standalone nodes behind a real nginx, configured as docs/DEPLOY.md shows, plain round
 * robin: more clients than the per-address cap come through the one proxy, and the application
 * sees each client's own address.
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
}
