package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The graph and dashboard feeds at the protocol level, and their timer's end with the server. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class DemoFeedsTest {

    @Test
    void theGraphPushesPointsToSubscribersOnly() throws InterruptedException {
        try (TestServer server = TestServer.start(DemoApp::install); RawClient client = server.raw()) {
            client.connectNamespace(GraphFeed.NAMESPACE, null);
            client.send("{\"type\":\"event\",\"nsp\":\"/graph\",\"event\":\"subscribe\",\"args\":[],\"ack\":1}");
            JsonObject subscription = client.next("ack").getJsonArray("args").getJsonObject(0);
            assertEquals(GraphFeed.SERIES.size(), subscription.getJsonArray("series").size());
            JsonObject point = event(client, "point").getJsonArray("args").getJsonObject(0);
            assertEquals(GraphFeed.SERIES.size(), point.getJsonArray("values").size());

            client.send("{\"type\":\"event\",\"nsp\":\"/graph\",\"event\":\"unsubscribe\",\"args\":[],\"ack\":2}");
            client.next(packet -> "ack".equals(packet.getString("type")) && packet.getInt("ack") == 2);
            String frame;
            while ((frame = client.poll(Duration.ofMillis(5 * GraphFeed.PERIOD_MILLIS))) != null) {
                assertTrue(frame.contains("\"ping\""), "nothing but pings once unsubscribed: " + frame);
            }
        }
    }

    @Test
    void theDashboardCountsSocketsConnectionsPerWireFormatAndAddressAndListenerFailuresEverySecond() throws Exception {
        try (TestServer server = TestServer.start(sb -> {
                DemoApp.install(sb);
                EchoApp.install(sb);
            });
             RawClient viewer = server.raw(); RawClient other = server.raw()) {
            viewer.connectNamespace(DashboardFeed.NAMESPACE, null);
            other.connectNamespace(GraphFeed.NAMESPACE, null);
            event(viewer, "history");
            JsonObject stats = event(viewer, "stats").getJsonArray("args").getJsonObject(0);
            assertEquals(2, stats.getInt("connections"));
            assertEquals(2, stats.getInt("totalSockets"));
            assertEquals(1, stats.getJsonObject("sockets").getInt("/graph"));
            assertEquals(server.switchboard().options().sendBudgetBytes(), stats.getJsonNumber("queueBound").longValue());
            assertEquals(0, stats.getJsonNumber("slowConsumers").longValue());
            assertEquals(0, stats.getJsonNumber("listenerFailures").longValue());
            JsonObject cluster = stats.getJsonObject("cluster");
            assertFalse(cluster.getBoolean("clustered"), "a single node: " + cluster);
            assertEquals(1, cluster.getInt("nodes"));
            assertFalse(cluster.getBoolean("linkUp"), "no Redis link");

            // A burst without its count makes the echo listener throw.
            other.connectNamespace(EchoApp.NAMESPACE, null);
            other.send("{\"type\":\"event\",\"nsp\":\"/echo\",\"event\":\"burst\",\"args\":[],\"ack\":1}");
            assertTrue(other.next("ack").containsKey("error"));
            while (stats.getJsonNumber("listenerFailures").longValue() == 0) {
                stats = event(viewer, "stats").getJsonArray("args").getJsonObject(0);
            }
            assertEquals(1, stats.getJsonNumber("listenerFailures").longValue());
            assertEquals(Json.createObjectBuilder().add("native websocket", 2).build(), stats.getJsonObject("connectionsByWire"));

            // A Socket.IO client over WebSocket and one on long-polling.
            try (RawClient socketIo = RawClient.connect(URI.create("ws://127.0.0.1:" + server.port()
                    + "/socket.io/?EIO=4&transport=websocket"))) {
                HttpResponse<String> open = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                        HttpRequest.newBuilder(URI.create(server.httpUri() + "socket.io/?EIO=4&transport=polling")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, open.statusCode());
                while (stats.getInt("connections") < 4) {
                    stats = event(viewer, "stats").getJsonArray("args").getJsonObject(0);
                }
                assertEquals(Json.createObjectBuilder().add("native websocket", 2).add("socket.io polling", 1)
                        .add("socket.io websocket", 1).build(), stats.getJsonObject("connectionsByWire"));

                // Another client address: the list names who holds the connections, most first.
                try (RawTcp elsewhere = RawTcp.open(server.port(), "127.0.0.3")) {
                    assertTrue(elsewhere.requestUpgrade(server.port(), "/switchboard", "").startsWith("HTTP/1.1 101"));
                    while (stats.getInt("connections") < 5) {
                        stats = event(viewer, "stats").getJsonArray("args").getJsonObject(0);
                    }
                    assertEquals(Json.createArrayBuilder()
                            .add(Json.createObjectBuilder().add("address", "127.0.0.1").add("connections", 4))
                            .add(Json.createObjectBuilder().add("address", "127.0.0.3").add("connections", 1)).build(),
                            stats.getJsonArray("topAddresses"));
                }
            }
        }
    }

    /** An IPv6 client is listed by the /64 the per-address caps count it by, not by each of its addresses. */
    @Test
    void theTopAddressesShowIpv6ClientsByTheirSlash64() throws Exception {
        try (TestServer server = TestServer.start(TestServer.options().trustedProxies(List.of("127.0.0.2")).build(), DemoApp::install);
             RawClient viewer = server.raw();
             RawTcp first = RawTcp.open(server.port(), "127.0.0.2");
             RawTcp second = RawTcp.open(server.port(), "127.0.0.2")) {
            assertTrue(first.requestUpgrade(server.port(), "/switchboard", "X-Forwarded-For: 2001:db8:1:2::1\r\n").startsWith("HTTP/1.1 101"));
            assertTrue(second.requestUpgrade(server.port(), "/switchboard", "X-Forwarded-For: 2001:db8:1:2::2\r\n").startsWith("HTTP/1.1 101"));
            viewer.connectNamespace(DashboardFeed.NAMESPACE, null);
            JsonObject stats = event(viewer, "stats").getJsonArray("args").getJsonObject(0);
            while (stats.getInt("connections") < 3) {
                stats = event(viewer, "stats").getJsonArray("args").getJsonObject(0);
            }
            assertEquals(Json.createArrayBuilder()
                    .add(Json.createObjectBuilder().add("address", "2001:db8:1:2::/64").add("connections", 2))
                    .add(Json.createObjectBuilder().add("address", "127.0.0.1").add("connections", 1)).build(),
                    stats.getJsonArray("topAddresses"));
        }
    }

    @Test
    void theFeedsStopWithTheServer() {
        TestServer.start(DemoApp::install).close();
        // Other tests' servers are closed too by now; their timers end within the same second.
        Await.until("the demo-feeds thread ended", () -> !feedThreadAlive());
    }

    private static boolean feedThreadAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(thread -> thread.isAlive() && thread.getName().equals("demo-feeds"));
    }

    private static JsonObject event(RawClient client, String name) {
        return client.next(packet -> "event".equals(packet.getString("type")) && name.equals(packet.getString("event")));
    }
}
