package dev.switchboard.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Browsers from a foreign origin are refused before the upgrade; the own origin (the Host with the
 * request's scheme) and the configured list are not.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class OriginTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.options().allowedOrigins(List.of("https://app.example.com")).build(), sb -> { });
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String statusLine(String originHeader) throws IOException {
        try (RawTcp tcp = RawTcp.open(server.port())) {
            String head = tcp.requestUpgrade(server.port(), "/switchboard", originHeader);
            return head.substring(0, head.indexOf('\r'));
        }
    }

    @Test
    void foreignOriginGets403() throws IOException {
        long before = server.switchboard().metrics().rejectedOrigins();
        assertEquals("HTTP/1.1 403 Forbidden", statusLine("Origin: http://evil.example\r\n"));
        assertEquals("HTTP/1.1 403 Forbidden", statusLine("Origin: http://127.0.0.1:1\r\n"));
        assertEquals(before + 2, server.switchboard().metrics().rejectedOrigins());
    }

    @Test
    void ownHostWithAnotherSchemeOrWithUserInfoGets403() throws IOException {
        String own = "127.0.0.1:" + server.port();
        for (String origin : List.of("https://" + own, "ws://" + own, "wss://" + own, "ftp://" + own,
                "http://evil.example@" + own, "http://" + own + "/path")) {
            assertEquals("HTTP/1.1 403 Forbidden", statusLine("Origin: " + origin + "\r\n"), origin);
        }
    }

    @Test
    void ownOriginConfiguredOriginsAndNonBrowsersAreUpgraded() throws IOException {
        assertTrue(statusLine("Origin: http://127.0.0.1:" + server.port() + "\r\n").startsWith("HTTP/1.1 101"));
        assertTrue(statusLine("Origin: https://app.example.com\r\n").startsWith("HTTP/1.1 101"));
        assertTrue(statusLine("").startsWith("HTTP/1.1 101"));
    }

    @Test
    void policyComparesSchemeDefaultPortsAndCase() {
        OriginPolicy policy = new OriginPolicy(List.of("HTTPS://App.Example.com/"));
        assertTrue(policy.allows("https://app.example.com", "elsewhere:9", false));
        assertTrue(policy.allows("http://localhost:8080", "localhost:8080", false));
        assertTrue(policy.allows("HTTP://LocalHost:8080/", "localhost:8080", false));
        assertTrue(policy.allows("http://example.org", "example.org", false));
        assertTrue(policy.allows("https://example.org", "example.org:443", true));
        assertTrue(policy.allows("https://example.org:443", "example.org", true));
        assertFalse(policy.allows("http://example.org:8080", "example.org", false));
        assertFalse(policy.allows("null", "example.org", false));
        assertTrue(new OriginPolicy(List.of("*")).allows("http://anything", null, false));
    }

    @Test
    void ownOriginHasTheRequestsSchemeAndNoUserInfo() {
        OriginPolicy policy = new OriginPolicy(List.of());
        assertFalse(policy.allows("https://localhost:9301", "localhost:9301", false));
        assertFalse(policy.allows("http://localhost:9301", "localhost:9301", true));
        assertTrue(policy.allows("https://localhost:9301", "localhost:9301", true));
        assertFalse(policy.allows("ws://localhost:9301", "localhost:9301", false));
        assertFalse(policy.allows("wss://localhost:9301", "localhost:9301", true));
        assertFalse(policy.allows("ftp://localhost:9301", "localhost:9301", false));
        assertFalse(policy.allows("http://evil.example@localhost:9301", "localhost:9301", false));
        assertFalse(policy.allows("http://localhost:9301?x", "localhost:9301", false));
    }
}
