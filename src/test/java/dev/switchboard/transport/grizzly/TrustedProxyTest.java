package dev.switchboard.transport.grizzly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The standalone server behind a proxy at 127.0.0.2: its forwarding headers name the client, for
 * the application's handshake, the per-address cap and the Origin check; anyone else's are ignored.
 */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class TrustedProxyTest {
    private static final String PROXY = "127.0.0.2";

    private static TestServer start(SwitchboardOptions.Builder options) {
        return TestServer.start(options.trustedProxies(List.of(PROXY)).allowedOrigins(List.of()).build(),
                sb -> sb.onConnection(socket -> {
                    socket.emit("you", socket.handshake().remoteAddress());
                    socket.on("whoami", event -> event.ack(socket.handshake().remoteAddress()));
                }));
    }

    /** Upgrades from {@code local} with these extra headers; the address the application saw, or the refusal. */
    private static String seenAs(TestServer server, String local, String headers) throws IOException {
        try (RawTcp tcp = RawTcp.open(server.port(), local)) {
            return addressSeen(tcp, server, headers);
        }
    }

    private static String addressSeen(RawTcp tcp, TestServer server, String headers) throws IOException {
        return tcp.firstArgumentOf("you", server.port(), headers);
    }

    @Test
    void aTrustedProxyNamesTheClientAndAnyoneElseIsTakenAtItsAddress() throws IOException {
        try (TestServer server = start(TestServer.options())) {
            assertEquals("198.51.100.4", seenAs(server, PROXY, "X-Forwarded-For: 6.6.6.6, 198.51.100.4\r\n"));
            assertEquals("2001:db8::17", seenAs(server, PROXY, "Forwarded: for=\"[2001:db8::17]:4711\";proto=http\r\n"));
            // Spoofing: the same headers from a peer nobody trusts change nothing.
            assertEquals("127.0.0.1", seenAs(server, "127.0.0.1", "X-Forwarded-For: 198.51.100.4\r\n"));
            assertEquals("127.0.0.3", seenAs(server, "127.0.0.3", "Forwarded: for=198.51.100.4\r\n"));
        }
    }

    @Test
    void thePerAddressCapCountsClientsNotTheProxy() throws IOException {
        try (TestServer server = start(TestServer.options().maxConnections(100, 1));
             RawTcp first = RawTcp.open(server.port(), PROXY);
             RawTcp second = RawTcp.open(server.port(), PROXY);
             RawTcp again = RawTcp.open(server.port(), PROXY)) {
            assertEquals("198.51.100.1", addressSeen(first, server, "X-Forwarded-For: 198.51.100.1\r\n"));
            assertEquals("198.51.100.2", addressSeen(second, server, "X-Forwarded-For: 198.51.100.2\r\n"));
            assertEquals("close 1013", addressSeen(again, server, "X-Forwarded-For: 198.51.100.1\r\n"));
        }
    }

    /**
     * An IPv6 client holds a whole /64 and may take a new address for each connection: the cap
     * counts the /64, not each address. An IPv4-mapped address is its IPv4 address.
     */
    @Test
    void thePerAddressCapCountsAnIpv6ClientByItsSlash64() throws IOException {
        List<RawTcp> open = new ArrayList<>();
        try (TestServer server = start(TestServer.options().maxConnections(100, 2))) {
            assertEquals("2001:db8:1:2::1", connectAs(server, open, "2001:db8:1:2::1"));
            assertEquals("2001:db8:1:2::2", connectAs(server, open, "2001:db8:1:2::2"));
            assertEquals("close 1013", connectAs(server, open, "2001:db8:1:2::3"));
            assertEquals("2001:db8:1:3::1", connectAs(server, open, "2001:db8:1:3::1"));

            assertEquals("198.51.100.1", connectAs(server, open, "198.51.100.1"));
            assertEquals("::ffff:198.51.100.1", connectAs(server, open, "::ffff:198.51.100.1"));
            assertEquals("close 1013", connectAs(server, open, "198.51.100.1"));
            assertEquals("close 1013", connectAs(server, open, "::ffff:198.51.100.1"));
        } finally {
            for (RawTcp tcp : open) {
                tcp.close();
            }
        }
    }

    /** {@code ipv6PrefixLength} sets the network an IPv6 client is counted by: here a /56. */
    @Test
    void thePrefixLengthOfIpv6ClientsIsAnOption() throws IOException {
        List<RawTcp> open = new ArrayList<>();
        try (TestServer server = start(TestServer.options().maxConnections(100, 1).ipv6PrefixLength(56))) {
            assertEquals("2001:db8:1:2::1", connectAs(server, open, "2001:db8:1:2::1"));
            assertEquals("close 1013", connectAs(server, open, "2001:db8:1:ff::1"));
            assertEquals("2001:db8:1:100::1", connectAs(server, open, "2001:db8:1:100::1"));
        } finally {
            for (RawTcp tcp : open) {
                tcp.close();
            }
        }
    }

    /** Connects through the proxy on behalf of {@code client}, keeping the connection open in {@code open}. */
    private static String connectAs(TestServer server, List<RawTcp> open, String client) throws IOException {
        RawTcp tcp = RawTcp.open(server.port(), PROXY);
        open.add(tcp);
        return addressSeen(tcp, server, "X-Forwarded-For: " + client + "\r\n");
    }

    @Test
    void theOriginCheckComparesWithTheSchemeAndHostTheClientUsed() throws IOException {
        try (TestServer server = start(TestServer.options())) {
            String viaTls = "Origin: https://app.example.com\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: app.example.com\r\n"
                    + "X-Forwarded-For: 198.51.100.4\r\n";
            assertEquals("198.51.100.4", seenAs(server, PROXY, viaTls));
            assertEquals("HTTP/1.1 403 Forbidden", seenAs(server, "127.0.0.1", viaTls));
            assertTrue(seenAs(server, PROXY, "Origin: https://evil.example\r\nX-Forwarded-Proto: https\r\n"
                    + "X-Forwarded-Host: app.example.com\r\n").startsWith("HTTP/1.1 403"));
        }
    }

    /**
     * A proxy that ends TLS and names the scheme of a WebSocket upgrade as the WebSocket's own
     * ({@code X-Forwarded-Proto: wss}, as Traefik sends it; {@code proto=wss} in {@code Forwarded}):
     * the browser's page came over {@code https}, so its {@code https} Origin is the server's own.
     */
    @Test
    void aProxyThatNamesTheSchemeWssMakesTheHttpsOriginTheServersOwn() throws IOException {
        try (TestServer server = start(TestServer.options())) {
            assertEquals("198.51.100.4", seenAs(server, PROXY, "Origin: https://app.example.com\r\nX-Forwarded-Proto: wss\r\n"
                    + "X-Forwarded-Host: app.example.com\r\nX-Forwarded-For: 198.51.100.4\r\n"));
            assertEquals("198.51.100.4", seenAs(server, PROXY, "Origin: https://app.example.com\r\n"
                    + "Forwarded: for=198.51.100.4;proto=wss;host=app.example.com\r\n"));
            // And a plain ws one stays plain: an https page is then foreign.
            assertTrue(seenAs(server, PROXY, "Origin: https://app.example.com\r\nX-Forwarded-Proto: ws\r\n"
                    + "X-Forwarded-Host: app.example.com\r\n").startsWith("HTTP/1.1 403"));
        }
    }

    private static final Pattern SID = Pattern.compile("\"sid\":\"([^\"]+)\"");
    private static final Pattern WHOAMI_ACK = Pattern.compile("431\\[\"([^\"]+)\"\\]");

    /** One Engine.IO long-polling request from the proxy on behalf of {@code client}; the whole answer. */
    private static String poll(TestServer server, String method, String query, String body, String client) throws IOException {
        try (RawTcp tcp = RawTcp.open(server.port(), PROXY)) {
            return tcp.exchange(method, "/socket.io/?EIO=4&transport=polling" + query, "X-Forwarded-For: " + client + "\r\n", body);
        }
    }

    private static String status(String answer) {
        return answer.substring("HTTP/1.1 ".length(), "HTTP/1.1 200".length());
    }

    @Test
    void longPollingSeesTheClientBehindTheProxyAndCapsItsAddress() throws IOException {
        try (TestServer server = start(TestServer.options().maxConnections(100, 1))) {
            String open = poll(server, "GET", "", "", "198.51.100.4");
            Matcher sid = SID.matcher(open);
            assertTrue(sid.find(), open);
            String session = "&sid=" + sid.group(1);
            assertTrue(poll(server, "POST", session, "40\u001e421[\"whoami\"]", "198.51.100.4").endsWith("ok"));
            String seen = "";
            for (int polls = 0; polls < 3 && !WHOAMI_ACK.matcher(seen).find(); polls++) {
                seen += poll(server, "GET", session, "", "198.51.100.4");
            }
            Matcher ack = WHOAMI_ACK.matcher(seen);
            assertTrue(ack.find(), seen);
            assertEquals("198.51.100.4", ack.group(1));

            // The cap of one per address: another client through the same proxy is served, the same one again is not.
            assertEquals("200", status(poll(server, "GET", "", "", "198.51.100.5")));
            assertEquals("503", status(poll(server, "GET", "", "", "198.51.100.4")));
        }
    }
}
