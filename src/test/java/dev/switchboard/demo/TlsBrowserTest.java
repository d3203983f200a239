package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.server.Switchboard;
import dev.switchboard.testing.TestCertificates;
import dev.switchboard.testing.TestServer;
import dev.switchboard.transport.grizzly.StandaloneOptions;
import dev.switchboard.transport.grizzly.StandaloneServer;
import dev.switchboard.transport.grizzly.TlsIdentity;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * switchboard.js in Chromium over {@code https://} and {@code wss://}, the server's certificate
 * made at run time and trusted by its public key's hash.
 */
@BrowserTest
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class TlsBrowserTest {
    private static final String ECHO = """
            await new Promise((loaded) => {
              const script = document.createElement('script');
              script.src = '/switchboard.js';
              script.onload = loaded;
              document.head.appendChild(script);
            });
            const socket = switchboard.connect({ forceNew: true });
            const reply = await socket.timeout(10000).emitWithAck('echo', 'over wss from the browser');
            socket.disconnect();
            return location.protocol + ' ' + reply;
            """;

    @Test
    void theBrowserClientConnectsOverWss() throws Exception {
        TestCertificates ca = TestCertificates.create();
        TestCertificates.Issued issued = ca.issue("browser");
        Switchboard switchboard = Switchboard.create(TestServer.options().build());
        switchboard.onConnection(socket -> socket.on("echo", event -> event.ack(event.arg(0, String.class))));
        try (StandaloneServer server = StandaloneServer.start(switchboard, StandaloneOptions.builder()
                .webRoot(Path.of("webapp")).tls(TlsIdentity.pem(issued.chain(), issued.key())).build());
             Chromium browser = Chromium.start("--ignore-certificate-errors-spki-list=" + TestCertificates.spkiHash(issued.chain()))) {
            String tab = browser.open(server.httpUri().resolve("switchboard.js"));
            assertEquals("https: over wss from the browser", browser.script(tab, ECHO));
        }
    }
}
