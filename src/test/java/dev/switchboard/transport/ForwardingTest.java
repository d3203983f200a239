package dev.switchboard.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.server.TrustedProxies;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Who the client is behind proxies, from the headers a trusted proxy adds and nobody else's. */
class ForwardingTest {
    private static final TrustedProxies PROXIES = TrustedProxies.of(List.of("10.0.0.0/8", "192.168.1.1", "fd00::/8"));

    private static Forwarding.Client resolve(String peer, Map<String, List<String>> headers) {
        return Forwarding.resolve(peer, false, "node-1:8080", name -> headers.getOrDefault(name, List.of()), PROXIES);
    }

    @Test
    void anUntrustedPeerIsTheClientWhateverItsHeadersSay() {
        Forwarding.Client client = resolve("203.0.113.9", Map.of("X-Forwarded-For", List.of("1.2.3.4"),
                "X-Forwarded-Proto", List.of("https"), "X-Forwarded-Host", List.of("bank.example"),
                "Forwarded", List.of("for=5.6.7.8;proto=https")));
        assertEquals(new Forwarding.Client("203.0.113.9", false, "node-1:8080"), client);
    }

    @Test
    void behindATrustedProxyTheClientIsTheRightMostUntrustedHop() {
        // The client wrote 6.6.6.6 itself; its real address is what the first proxy appended.
        Forwarding.Client client = resolve("10.0.0.2", Map.of("X-Forwarded-For", List.of("6.6.6.6, 198.51.100.4", "10.0.0.7"),
                "X-Forwarded-Proto", List.of("https"), "X-Forwarded-Host", List.of("app.example.com")));
        assertEquals(new Forwarding.Client("198.51.100.4", true, "app.example.com"), client);
    }

    @Test
    void forwardedTakesPrecedenceAndItsHopCarriesTheSchemeAndHostTheClientUsed() {
        Forwarding.Client client = resolve("192.168.1.1", Map.of(
                "Forwarded", List.of("for=6.6.6.6;proto=http, for=\"[2001:db8:cafe::17]:4711\";proto=https;host=app.example.com",
                        "for=10.1.1.1;proto=http;host=inner"),
                "X-Forwarded-For", List.of("7.7.7.7")));
        assertEquals(new Forwarding.Client("2001:db8:cafe::17", true, "app.example.com"), client);
    }

    /** A proxy that ends TLS may say only how the client came in: it then stands for the client. */
    @Test
    void aTrustedProxysSchemeAndHostCountWithoutAnAddress() {
        assertEquals(new Forwarding.Client("10.0.0.2", true, "app.example.com"), resolve("10.0.0.2",
                Map.of("X-Forwarded-Proto", List.of("https"), "X-Forwarded-Host", List.of("app.example.com"))));
        assertEquals(new Forwarding.Client("10.0.0.2", true, "node-1:8080"),
                resolve("10.0.0.2", Map.of("Forwarded", List.of("proto=https"))), "as with Forwarded");
    }

    /** As Tomcat, Jetty and Grizzly report a proxy that reaches the server over a link-local IPv6 address. */
    @Test
    void aTrustedProxyOnALinkLocalAddressIsKnownWhateverItsZone() {
        TrustedProxies linkLocal = TrustedProxies.of(List.of("fe80::/10"));
        for (String peer : List.of("fe80:0:0:0:0:0:0:1%eth0", "fe80::1%2")) {
            assertEquals("198.51.100.4", Forwarding.resolve(peer, false, "node-1:8080",
                    name -> name.equals("X-Forwarded-For") ? List.of("198.51.100.4") : List.of(), linkLocal).address(), peer);
        }
        assertFalse(linkLocal.trusts("fe80::1%"), "a zone with nothing in it is no address");
    }

    @Test
    void aTrustedPeerWithoutHeadersIsTheClient() {
        assertEquals(new Forwarding.Client("fd00::5", false, "node-1:8080"), resolve("fd00::5", Map.of()));
    }

    @Test
    void portsAreNotPartOfTheAddress() {
        assertEquals("192.0.2.43", resolve("10.0.0.2", Map.of("Forwarded", List.of("for=\"192.0.2.43:47011\""))).address());
        assertEquals("2001:db8::1", resolve("10.0.0.2", Map.of("X-Forwarded-For", List.of("2001:db8::1"))).address());
    }

    @Test
    void rangesMatchByPrefixAndEntriesThatAreNotAddressesAreRefused() {
        assertTrue(PROXIES.trusts("10.255.0.1"));
        assertFalse(PROXIES.trusts("11.0.0.1"));
        assertTrue(PROXIES.trusts("fd12::1"));
        assertFalse(PROXIES.trusts("fe80::1"));
        assertFalse(PROXIES.trusts("not-an-address"));
        assertTrue(TrustedProxies.of(List.of("172.16.0.0/12")).trusts("172.31.255.255"));
        assertFalse(TrustedProxies.of(List.of("172.16.0.0/12")).trusts("172.32.0.0"));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> TrustedProxies.of(List.of("proxy.example.com")));
        assertTrue(error.getMessage().contains("proxy.example.com"), error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TrustedProxies.of(List.of("10.0.0.0/33")));
    }
}
