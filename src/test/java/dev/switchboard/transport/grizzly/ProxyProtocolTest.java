package dev.switchboard.transport.grizzly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.server.Switchboard;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The PROXY protocol from a TCP load balancer at 127.0.0.2: its header names the client the
 * application sees; nobody else can send one, and the balancer must.
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class ProxyProtocolTest {
    private static final String BALANCER = "127.0.0.2";

    private static StandaloneServer start() {
        return start(options -> options);
    }

    private static StandaloneServer start(UnaryOperator<StandaloneOptions.Builder> options) {
        Switchboard switchboard = Switchboard.create(TestServer.options().trustedProxies(List.of(BALANCER)).build());
        switchboard.onConnection(socket -> socket.emit("you", socket.handshake().remoteAddress()));
        return StandaloneServer.start(switchboard,
                options.apply(StandaloneOptions.builder().webRoot(Path.of("webapp")).proxyProtocol(true)).build());
    }

    private static byte[] v1(String client) {
        String family = client.contains(":") ? "TCP6 " + client + " 2001:db8::1" : "TCP4 " + client + " 10.0.0.1";
        return ("PROXY " + family + " 51000 8080\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** A version 2 header with the addresses and then {@code tlvs}, the type-length-value fields. */
    private static byte[] v2(byte[] source, byte[] destination, byte... tlvs) {
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        header.writeBytes(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});
        header.write(0x21); // version 2, PROXY
        header.write(source.length == 4 ? 0x11 : 0x21); // TCP over IPv4 or IPv6
        int length = 2 * source.length + 4 + tlvs.length;
        header.write(length >> 8);
        header.write(length);
        header.writeBytes(source);
        header.writeBytes(destination);
        header.writeBytes(new byte[] {0x30, 0x39, 0x1F, (byte) 0x90}); // ports 12345, 8080
        header.writeBytes(tlvs);
        return header.toByteArray();
    }

    @Test
    void theBalancersHeaderNamesTheClientInEitherVersion() throws IOException {
        try (StandaloneServer server = start()) {
            try (RawTcp tcp = RawTcp.open(server.port(), BALANCER)) {
                tcp.write(v1("198.51.100.7"));
                assertEquals("198.51.100.7", tcp.firstArgumentOf("you", server.port(), ""));
            }
            try (RawTcp tcp = RawTcp.open(server.port(), BALANCER)) {
                byte[] header = v2(InetAddress.getByName("2001:db8::7").getAddress(), InetAddress.getByName("2001:db8::1").getAddress());
                // A header split across reads, as a slow network delivers it.
                tcp.write(java.util.Arrays.copyOf(header, 7));
                tcp.write(java.util.Arrays.copyOfRange(header, 7, header.length));
                assertEquals("2001:db8:0:0:0:0:0:7", tcp.firstArgumentOf("you", server.port(), ""));
            }
        }
    }

    /**
     * A balancer that ends TLS says so in its version 2 header (the SSL field, as HAProxy's
     * {@code send-proxy-v2-ssl} sends it): the browser's {@code https://} Origin is then the
     * server's own, as behind a proxy that says {@code X-Forwarded-Proto: https}.
     */
    @Test
    void aBalancerThatEndsTlsSaysSoAndTheClientsHttpsOriginIsItsOwn() throws IOException {
        // Another field first, which is skipped: an ALPN of "h1".
        byte[] alpn = {0x01, 0x00, 0x02, 'h', '1'};
        // PP2_TYPE_SSL: client flags (PP2_CLIENT_SSL), then the 4-byte verify result (0: verified).
        byte[] ssl = {0x20, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00};
        try (StandaloneServer server = start()) {
            String origin = "Origin: https://127.0.0.1:" + server.port() + "\r\n";
            byte[] client = InetAddress.getByName("198.51.100.7").getAddress();
            byte[] node = InetAddress.getByName("10.0.0.1").getAddress();
            try (RawTcp tcp = RawTcp.open(server.port(), BALANCER)) {
                ByteArrayOutputStream tlvs = new ByteArrayOutputStream();
                tlvs.writeBytes(alpn);
                tlvs.writeBytes(ssl);
                tcp.write(v2(client, node, tlvs.toByteArray()));
                assertEquals("198.51.100.7", tcp.firstArgumentOf("you", server.port(), origin));
            }
            try (RawTcp tcp = RawTcp.open(server.port(), BALANCER)) {
                tcp.write(v2(client, node, alpn));
                String answer = tcp.firstArgumentOf("you", server.port(), origin);
                assertTrue(answer.startsWith("HTTP/1.1 403"), "without the field the client came in over plain HTTP: " + answer);
            }
        }
    }

    @Test
    void nobodyElseCanNameAClientAndTheBalancerMustSendAHeader() throws IOException {
        try (StandaloneServer server = start()) {
            try (RawTcp spoof = RawTcp.open(server.port(), "127.0.0.1")) {
                spoof.write("PROXY TCP4 198.51.100.7 10.0.0.1 51000 8080\r\n".getBytes(StandardCharsets.US_ASCII));
                // Not a header from this peer: the HTTP parser refuses the line (Grizzly: 505).
                String answer = spoof.firstArgumentOf("you", server.port(), "");
                assertTrue(answer.startsWith("HTTP/1.1 ") && !answer.startsWith("HTTP/1.1 101"), answer);
            }
            try (RawTcp direct = RawTcp.open(server.port(), "127.0.0.3")) {
                assertEquals("127.0.0.3", direct.firstArgumentOf("you", server.port(), ""));
            }
            try (RawTcp headerless = RawTcp.open(server.port(), BALANCER)) {
                headerless.write("GET /switchboard.js HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertEquals(0, headerless.readToEnd().length, "dropped without an answer");
            }
        }
    }

    /**
     * A TCP balancer passes half-open connections through (unlike nginx, which holds them itself):
     * the share of pending connections per address is the named client's, not the balancer's,
     * whose exemption is for the many clients behind it.
     */
    @Test
    void aClientBehindTheBalancerHoldsNoMoreThanItsShareOfHalfOpenConnections() throws IOException {
        holdsItsShareOfHalfOpenConnections(i -> "198.51.100.7", "198.51.100.8");
    }

    /** An IPv6 client may name another address of its /64 on each connection: the share is the /64's. */
    @Test
    void anIpv6ClientBehindTheBalancerHoldsNoMoreThanItsSlash64sShareOfHalfOpenConnections() throws IOException {
        holdsItsShareOfHalfOpenConnections(i -> "2001:db8:1:2::" + (i + 1), "2001:db8:1:3::1");
    }

    /** Fifteen half-open connections of one client, the {@code i}th from {@code attacker.apply(i)}; then a neighbour's. */
    private static void holdsItsShareOfHalfOpenConnections(IntFunction<String> attacker, String neighbour) throws IOException {
        try (StandaloneServer server = start(o -> o.headerTimeout(Duration.ofSeconds(60)).maxPending(1_000, 10))) {
            List<Socket> attack = new ArrayList<>();
            try {
                for (int i = 0; i < 15; i++) {
                    Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port(), InetAddress.getByName(BALANCER), 0);
                    socket.getOutputStream().write(v1(attacker.apply(i)));
                    socket.getOutputStream().write(SlowClientTest.HALF_UPGRADE);
                    attack.add(socket);
                }
                Await.until("the attacker's connections past its share dropped", () -> SlowClientTest.dropped(attack, server) == 5);
                assertEquals(10, server.pendingConnections());
                assertEquals(5, server.switchboard().metrics().refusedConnections());
                // Another client behind the same balancer is served meanwhile.
                try (RawTcp tcp = RawTcp.open(server.port(), BALANCER)) {
                    tcp.write(v1(neighbour));
                    assertEquals(neighbour, tcp.firstArgumentOf("you", server.port(), ""));
                }
            } finally {
                SlowClientTest.closeAll(attack);
            }
        }
    }
}
