package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.server.Switchboard;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.Nginx;
import dev.switchboard.testing.TestCertificates;
import dev.switchboard.testing.TestServer;
import dev.switchboard.transport.grizzly.StandaloneOptions;
import dev.switchboard.transport.grizzly.StandaloneServer;
import dev.switchboard.transport.grizzly.TlsIdentity;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * switchboard.js in Chromium at the edge of a real network: over {@code https://} and
 * {@code wss://} with a certificate made at run time (trusted by its public key's hash), and
 * behind nginx while the node it is on drains for a restart.
 */
@BrowserTest
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TlsAndRestartBrowserTest {
    private static final String LOAD = """
            await new Promise((loaded) => {
              const script = document.createElement('script');
              script.src = '/switchboard.js';
              script.onload = loaded;
              document.head.appendChild(script);
            });
            """;

    private static TestCertificates.Issued issued;
    private static Chromium browser;

    @BeforeAll
    static void start() throws Exception {
        issued = TestCertificates.create().issue("browser");
        browser = Chromium.start("--ignore-certificate-errors-spki-list=" + TestCertificates.spkiHash(issued.chain()));
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
    }

    private static void echo(Switchboard switchboard) {
        switchboard.onConnection(socket -> socket.on("echo", event -> event.ack(event.arg(0, String.class))));
    }

    @Test
    void theBrowserClientConnectsOverWss() {
        Switchboard switchboard = Switchboard.create(TestServer.options().build());
        echo(switchboard);
        try (StandaloneServer server = StandaloneServer.start(switchboard, StandaloneOptions.builder()
                .webRoot(Path.of("webapp")).tls(TlsIdentity.pem(issued.chain(), issued.key())).build())) {
            String tab = browser.open(server.httpUri().resolve("switchboard.js"));
            assertEquals("https: over wss from the browser", browser.script(tab, LOAD + """
                    const socket = switchboard.connect({ forceNew: true });
                    const reply = await socket.timeout(10000).emitWithAck('echo', 'over wss from the browser');
                    socket.disconnect();
                    return location.protocol + ' ' + reply;
                    """));
        } finally {
            browser.closeTabs();
        }
    }

    @Test
    void aPageOnADrainingNodeIsToldTheServerIsRestartingAndReconnectsToTheOtherNode() throws Exception {
        try (TestServer first = TestServer.start(TlsAndRestartBrowserTest::echo); TestServer second = TestServer.start(TlsAndRestartBrowserTest::echo);
             Nginx nginx = Nginx.start(List.of(first.port(), second.port()))) {
            String tab = browser.open(URI.create("http://127.0.0.1:" + nginx.port() + "/switchboard.js"));
            browser.script(tab, LOAD + """
                    window.seen = [];
                    const socket = switchboard.connect({ forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
                    socket.on('connect', () => seen.push('connect'));
                    socket.on('disconnect', (reason) => seen.push('disconnect ' + reason));
                    """);
            browser.waitUntil(tab, "connected", () -> seen(tab), driver -> seen(tab).contains("connect"));
            TestServer draining = first.switchboard().connectionCount() == 1 ? first : second;
            TestServer staying = draining == first ? second : first;
            assertTrue(draining.switchboard().drain(Duration.ofMillis(100), Duration.ofSeconds(10)).get(20, TimeUnit.SECONDS));
            browser.waitUntil(tab, "told and reconnected", () -> seen(tab),
                    driver -> seen(tab).equals(List.of("connect", "disconnect server restarting", "connect")));
            Await.until("the page on the other node", () -> staying.switchboard().connectionCount() == 1);
        } finally {
            browser.closeTabs();
        }
    }

    @SuppressWarnings("unchecked")
    private static List<String> seen(String tab) {
        return new ArrayList<>((List<String>) browser.script(tab, "return window.seen;"));
    }
}
