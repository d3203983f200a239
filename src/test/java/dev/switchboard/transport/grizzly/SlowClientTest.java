package dev.switchboard.transport.grizzly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.server.Switchboard;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.Heap;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The standalone server against clients that open connections and never finish a request: as an
 * attacker would, through raw sockets from several loopback addresses (127.0.0.0/8 is all this
 * host's), while a client that upgrades at once is still served.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class SlowClientTest {
    static final byte[] HALF_UPGRADE =
            "GET /switchboard HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII);

    private static StandaloneServer start(UnaryOperator<StandaloneOptions.Builder> options) {
        Switchboard switchboard = Switchboard.create(TestServer.options().build());
        switchboard.onConnection(socket -> socket.on("echo", event -> event.ack("served")));
        return StandaloneServer.start(switchboard, options.apply(StandaloneOptions.builder().webRoot(Path.of("webapp"))).build());
    }

    /** A connection from {@code 127.0.0.<host>} that sends half an upgrade request and stops. */
    private static Socket halfOpen(int port, int host) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port, InetAddress.getByName("127.0.0." + host), 0);
        socket.getOutputStream().write(HALF_UPGRADE);
        return socket;
    }

    /** How many of these connections the server no longer holds, from the kernel's table. */
    static long dropped(List<Socket> sockets, StandaloneServer server) {
        try {
            Set<InetSocketAddress> held = RawTcp.peersOf(server.port());
            return sockets.stream().filter(socket -> !held.contains(RawTcp.peerOf(socket))).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void assertServed(StandaloneServer server) {
        try (RawClient client = RawClient.connect(server.webSocketUri())) {
            client.connectNamespace("/", null);
            client.sendJson("{'type':'event','event':'echo','args':[],'ack':1}");
            assertEquals("served", client.next("ack").getJsonArray("args").getString(0));
        }
    }

    static void closeAll(List<Socket> sockets) throws IOException {
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    private static long openFileDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    void aFloodOfHalfOpenUpgradesIsDroppedWithinTheHeaderTimeoutWhileAClientIsServed() throws IOException {
        int addresses = 10;
        int perAddress = 150;
        try (StandaloneServer server = start(o -> o.headerTimeout(Duration.ofSeconds(2)).maxPending(500, 100))) {
            long fdsBefore = openFileDescriptors();
            long heapBefore = Heap.retained();
            List<Socket> attack = new ArrayList<>();
            try {
                for (int host = 2; host < 2 + addresses; host++) {
                    for (int i = 0; i < perAddress; i++) {
                        attack.add(halfOpen(server.port(), host));
                    }
                }
                int serverHeld = RawTcp.peersOf(server.port()).size();
                int pendingAtPeak = server.pendingConnections();
                long fdsAtPeak = openFileDescriptors();
                assertServed(server);
                Set<InetSocketAddress> attackPeers = new java.util.HashSet<>();
                attack.forEach(socket -> attackPeers.add(RawTcp.peerOf(socket)));
                Await.until("every half-open upgrade dropped", () -> {
                    try {
                        Set<InetSocketAddress> held = RawTcp.peersOf(server.port());
                        held.retainAll(attackPeers);
                        return held.isEmpty();
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                });
                assertEquals(0, server.pendingConnections());
                for (Socket socket : attack) {
                    assertTrue(RawTcp.closedByServer(socket, Duration.ofSeconds(5)), "the server ended every half-open connection");
                }
                System.out.printf("%d half-open upgrades from %d addresses: %d pending in the server (cap 500),"
                                + " %d established in the kernel, file descriptors %d before, %d at the peak (the attack's own %d included)%n",
                        attack.size(), addresses, pendingAtPeak, serverHeld, fdsBefore, fdsAtPeak, attack.size());
                assertTrue(pendingAtPeak <= 500, "pending " + pendingAtPeak);
            } finally {
                closeAll(attack);
            }
            long fdsAfter = openFileDescriptors();
            long heapAfter = Heap.retained();
            System.out.printf("after the attack: file descriptors %d (%d before), heap retained %s%n",
                    fdsAfter, fdsBefore, Heap.change(heapAfter - heapBefore));
            assertTrue(fdsAfter <= fdsBefore + 20, "file descriptors went from " + fdsBefore + " to " + fdsAfter);
            assertTrue(heapAfter - heapBefore < 16 * 1024 * 1024, "heap grew by " + Heap.change(heapAfter - heapBefore));
            assertServed(server);
        }
    }

    @Test
    void anUpgradeRequestSentAByteASecondIsDropped() throws Exception {
        try (StandaloneServer server = start(o -> o.headerTimeout(Duration.ofSeconds(1)));
             Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            byte[] request = ("GET /switchboard HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            int sent = 0;
            try {
                // Each byte resets any idle timer; only a deadline on the whole head ends this.
                while (sent < request.length && !RawTcp.closedByServer(socket, Duration.ofMillis(200))) {
                    socket.getOutputStream().write(request[sent++]);
                }
            } catch (SocketException e) {
                // the server dropped it between two bytes
            }
            assertTrue(sent < request.length, "the whole request went through, a byte at a time");
            assertTrue(RawTcp.closedByServer(socket, Duration.ofSeconds(5)));
            System.out.println("trickled upgrade dropped after " + sent + " of " + request.length + " bytes");
            assertServed(server);
        }
    }

    @Test
    void oneAddressCannotHoldMoreThanItsShareOfHalfOpenConnections() throws IOException {
        try (StandaloneServer server = start(o -> o.headerTimeout(Duration.ofSeconds(60)).maxPending(1_000, 10))) {
            List<Socket> attack = new ArrayList<>();
            try {
                for (int i = 0; i < 15; i++) {
                    attack.add(halfOpen(server.port(), 3));
                }
                // Accepts run on several threads: which five go is not fixed, how many is.
                Await.until("the connections past the cap dropped", () -> dropped(attack, server) == 5);
                assertEquals(10, server.pendingConnections());
                assertEquals(5, server.switchboard().metrics().refusedConnections());
                assertServed(server);
            } finally {
                closeAll(attack);
            }
        }
    }

    @Test
    void pastTheTotalCapTheOldestHalfOpenConnectionMakesRoom() throws IOException {
        try (StandaloneServer server = start(o -> o.headerTimeout(Duration.ofSeconds(60)).maxPending(20, 20))) {
            List<Socket> attack = new ArrayList<>();
            try {
                for (int i = 0; i < 25; i++) {
                    attack.add(halfOpen(server.port(), 4 + i % 5));
                }
                Await.until("the oldest dropped for the newest", () -> dropped(attack, server) == 5);
                assertEquals(20, server.pendingConnections());
                // The table is full, yet the client that upgrades at once is served: one more of the attack made room.
                assertServed(server);
                assertEquals(6, dropped(attack, server));
                assertEquals(6, server.switchboard().metrics().refusedConnections());
            } finally {
                closeAll(attack);
            }
        }
    }

    @Test
    void longPollingSessionsDoNotCountAgainstThePendingCap() throws Exception {
        try (StandaloneServer server = start(o -> o.maxPending(5, 5))) {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String base = "http://127.0.0.1:" + server.port() + "/socket.io/?EIO=4&transport=polling";
            List<String> sids = new ArrayList<>();
            List<CompletableFuture<HttpResponse<String>>> waiting = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String open = http.send(HttpRequest.newBuilder(URI.create(base)).build(), HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(open.startsWith("0{\"sid\":\""), open);
                String sid = open.substring(9, open.indexOf('"', 9));
                sids.add(sid);
                // Each session keeps a GET waiting for packets, on a connection of its own.
                waiting.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base + "&sid=" + sid)).build(),
                        HttpResponse.BodyHandlers.ofString()));
                Await.until("the GET waits", () -> server.pendingConnections() <= 1);
            }
            assertServed(server);
            for (int i = 0; i < sids.size(); i++) {
                http.send(HttpRequest.newBuilder(URI.create(base + "&sid=" + sids.get(i))).POST(HttpRequest.BodyPublishers.ofString("40")).build(),
                        HttpResponse.BodyHandlers.ofString());
                String connected = waiting.get(i).join().body();
                assertTrue(connected.startsWith("40{\"sid\":"), connected);
            }
            // Answered, the polling connections are idle keep-alive connections, counted and timed again.
            assertTrue(server.pendingConnections() >= sids.size(), "pending: " + server.pendingConnections());
        }
    }

    @Test
    void anIdleKeepAliveConnectionIsClosedButAnIdleWebSocketIsNot() throws IOException {
        try (StandaloneServer server = start(o -> o.headerTimeout(Duration.ofMillis(500)).idleTimeout(Duration.ofMillis(500)));
             RawClient webSocket = RawClient.connect(server.webSocketUri());
             Socket files = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            webSocket.connectNamespace("/", null);
            files.getOutputStream().write("GET /switchboard.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = files.getInputStream();
            String head = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            assertEquals("HTTP/1.1 200", head);
            files.setSoTimeout(10_000);
            try {
                while (in.read() >= 0) {
                    // the file, then the end of the connection once it has sat idle
                }
            } catch (SocketException e) {
                // reset: dropped all the same
            }
            // Longer than both timeouts: the WebSocket is the heartbeat's to end, not theirs.
            Await.until("the idle file connection gone", () -> server.pendingConnections() == 0);
            sleep(Duration.ofMillis(1_200));
            webSocket.sendJson("{'type':'event','event':'echo','args':[],'ack':1}");
            assertEquals("served", webSocket.next("ack").getJsonArray("args").getString(0));
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
