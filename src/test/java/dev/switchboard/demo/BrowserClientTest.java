package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code webapp/switchboard.js} in a real browser across a real network drop: the page's
 * WebSocket goes through a proxy that the test resets, as a dropped Wi-Fi would. And binary
 * arguments: {@code ArrayBuffer}s and typed arrays up, {@code ArrayBuffer}s down.
 */
@BrowserTest
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class BrowserClientTest {
    /** Loads switchboard.js into a page of the server's own origin and records what a socket sees in {@code window.seen}. */
    private static final String CONNECT = """
            const [options] = arguments;
            await new Promise((loaded) => {
              const script = document.createElement('script');
              script.src = '/switchboard.js';
              script.onload = loaded;
              document.head.appendChild(script);
            });
            window.seen = [];
            const socket = switchboard.connect(Object.assign({ forceNew: true, reconnectionDelay: 100,
                reconnectionDelayMax: 200, randomizationFactor: 0 }, options));
            socket.on('connect', () => seen.push('connect ' + socket.id + (socket.recovered ? ' recovered' : '')));
            socket.on('disconnect', (reason) => seen.push('disconnect ' + reason));
            socket.on('reconnect_attempt', (n) => seen.push('attempt ' + n));
            socket.on('reconnect_failed', () => seen.push('reconnect_failed'));
            socket.on('seq', (n) => seen.push('seq ' + n));
            socket.on('typing', (name) => seen.push('typing ' + name));
            window.hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
            socket.on('blob', (name, data) => seen.push('blob ' + name + ' ' + (data instanceof ArrayBuffer) + ' ' + hex(data)));
            socket.on('error', (error) => seen.push('error ' + error.code));
            window.socket = socket;
            """;

    /** Emits pay with the argument given, at least once, and records the outcome in {@code window.seen}. */
    private static final String PAY = """
            socket.emitWithAck('pay', arguments[0]).then((reply) => seen.push('reply ' + reply),
                (err) => seen.push('failed ' + err.code + ': ' + err.message));
            """;

    private static Chromium browser;
    private final List<String> notes = new CopyOnWriteArrayList<>();
    private final AtomicBoolean answering = new AtomicBoolean(true);
    private TestServer server;
    private CuttableProxy network;
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
    void start() throws Exception {
        serve(TestServer.options().build());
    }

    /** A server that takes notes, behind a network the test can cut, and a tab of its origin. */
    private void serve(SwitchboardOptions options) throws IOException {
        server = TestServer.start(options, sb -> sb.onConnection(socket -> {
            socket.on("note", event -> notes.add(event.arg(0, String.class)));
            socket.on("upload", event -> {
                byte[] first = event.arg(0, byte[].class);
                byte[] nested = event.args().attachment(1);
                event.ack(first.length + nested.length, new byte[] {(byte) 0xca, (byte) 0xfe}, Map.of("copy", nested));
            });
            socket.on("pay", event -> {
                notes.add("pay " + event.arg(0, int.class));
                if (answering.get()) {
                    event.ack("paid " + event.arg(0, int.class));
                }
            });
        }));
        network = new CuttableProxy(server.port());
        tab = browser.open(URI.create("http://127.0.0.1:" + network.port() + "/switchboard.js"));
    }

    @AfterEach
    void stop() throws Exception {
        browser.closeTabs();
        network.close();
        server.close();
    }

    @SuppressWarnings("unchecked")
    private List<String> seen() {
        return new ArrayList<>((List<String>) browser.script(tab, "return window.seen;"));
    }

    private void awaitNotes(int count) {
        browser.waitUntil(tab, count + " notes at the server", () -> notes, driver -> notes.size() >= count);
    }

    private static List<String> numbers(int count) {
        return IntStream.range(0, count).mapToObj(String::valueOf).toList();
    }

    private String awaitSeen(String prefix) {
        return browser.waitUntil(tab, "'" + prefix + "' in what the socket saw", this::seen,
                driver -> seen().stream().filter(line -> line.startsWith(prefix)).reduce((a, b) -> b).orElse(null));
    }

    @Test
    void aDroppedPageReconnectsRecoversWhatItMissedAndSendsWhatItEmittedOffline() {
        browser.script(tab, CONNECT, Map.of());
        String id = awaitSeen("connect ").substring("connect ".length());
        for (int i = 0; i < 10; i++) {
            server.switchboard().to(id).emit("seq", i);
        }
        awaitSeen("seq 9");

        network.refuse(true);
        network.cut();
        awaitSeen("disconnect transport close");
        for (int i = 10; i < 20; i++) {
            server.switchboard().to(id).emit("seq", i);
        }
        browser.script(tab, "socket.emit('note', 'offline 1'); socket.volatile.emit('note', 'volatile');"
                + " socket.emit('note', 'offline 2');");
        awaitSeen("attempt ");
        network.refuse(false);

        assertEquals("connect " + id + " recovered", awaitSeen("connect " + id + " recovered"));
        awaitSeen("seq 19");
        List<String> events = seen().stream().filter(line -> line.startsWith("seq ")).toList();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            expected.add("seq " + i);
        }
        assertEquals(expected, events, "every event once, in order, across the drop");
        browser.waitUntil(tab, "the offline emits at the server", () -> notes, driver -> notes.size() >= 2);
        assertEquals(List.of("offline 1", "offline 2"), notes, "buffered emits sent in order; the volatile one dropped");
    }

    @Test
    void aPageSendsAndReceivesArrayBuffers() {
        browser.script(tab, CONNECT, Map.of());
        awaitSeen("connect");
        Object reply = browser.script(tab, """
                const reply = await new Promise((answered) => socket.emit('upload', new Uint8Array([1, 2, 3]).buffer,
                    { data: new Uint8Array([4, 5]) }, (...values) => answered(values)));
                return [String(reply[0]), String(reply[1] instanceof ArrayBuffer), hex(reply[1]), hex(reply[2].copy)];
                """);
        assertEquals(List.of("5", "true", "cafe", "0405"), reply);

        server.switchboard().of("/").emit("blob", "b", new byte[] {0, (byte) 0xff});
        assertEquals("blob b true 00ff", awaitSeen("blob"));
    }

    @Test
    void aVolatileEventSeenLastBeforeADropDoesNotSpoilTheRecovery() {
        browser.script(tab, CONNECT, Map.of());
        String id = awaitSeen("connect ").substring("connect ".length());
        server.switchboard().to(id).emit("seq", 0);
        server.switchboard().to(id).asVolatile().emit("typing", "Maciel");
        awaitSeen("typing Maciel");

        network.refuse(true);
        network.cut();
        awaitSeen("disconnect transport close");
        server.switchboard().to(id).emit("seq", 1);
        network.refuse(false);

        awaitSeen("seq 1");
        assertEquals(List.of("connect " + id, "seq 0", "typing Maciel", "disconnect transport close",
                "connect " + id + " recovered", "seq 1"), seen().stream().filter(line -> !line.startsWith("attempt ")).toList());
    }

    @Test
    void anEmitSentIntoASessionThatCouldNotBeRecoveredFailsRatherThanRunTwice() throws InterruptedException {
        BlockingQueue<String> expired = new LinkedBlockingQueue<>();
        server.switchboard().root().onSessionExpired(session -> expired.add(session.id()));
        answering.set(false);
        browser.script(tab, CONNECT, Map.of("retries", 5, "ackTimeout", 5000));
        String id = awaitSeen("connect ").substring("connect ".length());
        browser.script(tab, PAY, 7);
        browser.waitUntil(tab, "the server handling pay 7", () -> notes, driver -> notes.contains("pay 7"));

        // The answer never came, and the session ends while the page is away.
        network.refuse(true);
        network.cut();
        awaitSeen("disconnect transport close");
        browser.script(tab, PAY, 8);
        browser.waitUntil(tab, "the server letting the connection go", () -> notes,
                driver -> server.switchboard().connectionCount() == 0);
        for (int i = 0; i <= server.switchboard().options().recoveryMaxEvents(); i++) {
            server.switchboard().to(id).emit("seq", i);
        }
        assertEquals(id, expired.poll(10, TimeUnit.SECONDS));
        answering.set(true);
        network.refuse(false);

        awaitSeen("reply ");
        assertEquals(List.of("failed session_lost: session lost: the server may or may not have handled it",
                "reply paid 8"), seen().stream().filter(line -> line.matches("(failed|reply) .*")).toList());
        assertEquals(List.of("pay 7", "pay 8"), notes, "7 was not resent into the new session; 8, never sent, was");
    }

    @Test
    void aThousandEmitsMadeDuringAnOutageArriveInOrderOnceEachAndTheSessionIsKept() throws Exception {
        // A higher rate than the default keeps the test short; pacing is what matters, not the rate.
        stop();
        serve(TestServer.options().eventRate(500, 400).build());
        browser.script(tab, CONNECT, Map.of());
        String id = awaitSeen("connect ").substring("connect ".length());

        network.refuse(true);
        network.cut();
        awaitSeen("disconnect transport close");
        browser.script(tab, "for (let i = 0; i < 1000; i++) { socket.emit('note', String(i)); }");
        for (int i = 0; i < 50; i++) {
            server.switchboard().to(id).emit("seq", i);
        }
        network.refuse(false);

        awaitSeen("connect " + id + " recovered");
        awaitNotes(1000);
        assertEquals(numbers(1000), notes, "every offline emit once, in order");
        awaitSeen("seq 49");
        assertEquals(List.of("connect " + id, "disconnect transport close", "connect " + id + " recovered"),
                seen().stream().filter(line -> line.startsWith("connect ") || line.startsWith("disconnect ")
                        || line.startsWith("error ")).toList(), "no refusal, no second drop");
    }

    @Test
    void aBurstOfEmitsKeepsWithinTheDefaultRateLimit() {
        browser.script(tab, CONNECT, Map.of());
        awaitSeen("connect ");
        browser.script(tab, "for (let i = 0; i < 300; i++) { socket.emit('note', String(i)); }");
        awaitNotes(300);
        assertEquals(numbers(300), notes, "300 emits at once, past the burst of 200: none refused");
        assertEquals(List.of(), seen().stream().filter(line -> line.startsWith("error ")).toList());
    }

    @Test
    void anEmitBeyondTheBoundIsRefusedAndTheBufferedOnesAreStillSent() {
        browser.script(tab, CONNECT, Map.of("maxBufferedEmits", 3));
        String id = awaitSeen("connect ").substring("connect ".length());
        network.refuse(true);
        network.cut();
        awaitSeen("disconnect transport close");
        browser.script(tab, """
                for (let i = 0; i < 3; i++) { socket.emit('note', String(i)); }
                socket.emit('note', 'refused');
                socket.emitWithAck('note', 'refused too').catch((err) => seen.push('failed ' + err.code));
                """);
        awaitSeen("failed ");
        network.refuse(false);
        awaitSeen("connect " + id + " recovered");
        browser.script(tab, "socket.emit('note', 'after');");

        awaitNotes(4);
        assertEquals(List.of("0", "1", "2", "after"), notes, "the buffered emits kept their place; the refused ones never left");
        assertEquals(List.of("error buffer_full", "error buffer_full", "failed buffer_full"),
                seen().stream().filter(line -> line.matches("(error|failed) .*")).toList());
    }

    @Test
    void aPageThatCannotReconnectReportsEveryAttemptThenGivesUp() {
        browser.script(tab, CONNECT, Map.of("reconnectionAttempts", 3));
        awaitSeen("connect ");
        network.refuse(true);
        network.cut();
        awaitSeen("reconnect_failed");
        List<String> lifecycle = seen().stream().filter(line -> !line.startsWith("connect ")).toList();
        assertEquals(List.of("disconnect transport close", "attempt 1", "attempt 2", "attempt 3", "reconnect_failed"),
                lifecycle);
        assertEquals(false, browser.script(tab, "return socket.connected;"));
    }
}
