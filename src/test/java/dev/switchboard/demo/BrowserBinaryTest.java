package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.testing.TestServer;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code webapp/switchboard.js} sending and receiving binary arguments in Chromium: an
 * {@code ArrayBuffer} and a {@code Uint8Array} (nested in an object) go up, the server's answer and
 * its broadcast come back as {@code ArrayBuffer}s.
 */
@BrowserTest
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BrowserBinaryTest {
    private static final String CONNECT = """
            await new Promise((loaded) => {
              const script = document.createElement('script');
              script.src = '/switchboard.js';
              script.onload = loaded;
              document.head.appendChild(script);
            });
            window.seen = [];
            const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
            window.hex = hex;
            const socket = switchboard.connect({ forceNew: true });
            socket.on('blob', (name, data) => seen.push('blob ' + name + ' ' + (data instanceof ArrayBuffer) + ' ' + hex(data)));
            await new Promise((connected) => socket.on('connect', connected));
            window.socket = socket;
            """;

    private static Chromium browser;
    private TestServer server;
    private String tab;

    @BeforeAll
    static void startBrowser() {
        browser = Chromium.start();
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    @BeforeEach
    void start() {
        server = TestServer.start(sb -> sb.onConnection(socket -> {
            socket.join("room");
            socket.on("upload", event -> {
                byte[] first = event.arg(0, byte[].class);
                byte[] nested = event.args().attachment(1);
                event.ack(first.length + nested.length, new byte[] {(byte) 0xca, (byte) 0xfe}, Map.of("copy", nested));
            });
        }));
        tab = browser.open(URI.create("http://127.0.0.1:" + server.port() + "/switchboard.js"));
    }

    @AfterEach
    void stop() {
        browser.closeTabs();
        server.close();
    }

    @Test
    void aPageSendsAndReceivesArrayBuffers() {
        browser.script(tab, CONNECT, Map.of());
        Object reply = browser.script(tab, """
                const reply = await new Promise((answered) => socket.emit('upload', new Uint8Array([1, 2, 3]).buffer,
                    { data: new Uint8Array([4, 5]) }, (...values) => answered(values)));
                return [String(reply[0]), String(reply[1] instanceof ArrayBuffer), hex(reply[1]), hex(reply[2].copy)];
                """);
        assertEquals(List.of("5", "true", "cafe", "0405"), reply);

        server.switchboard().of("/").to("room").emit("blob", "b", new byte[] {0, (byte) 0xff});
        browser.waitUntil(tab, "the broadcast", () -> browser.script(tab, "return window.seen;"),
                driver -> ((List<?>) browser.script(tab, "return window.seen;")).contains("blob b true 00ff") ? true : null);
    }
}
