package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.Await;
import dev.switchboard.testing.ClaimFailingStore;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.PausableServer;
import dev.switchboard.testing.TestServer;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code webapp/switchboard.js} with its features in combination, in a real browser, through a
 * network the test cuts: retried emits across drops, and the socket's own lifecycle while a
 * connect is in flight. Each case holds a promise the Java client keeps too.
 */
@BrowserTest
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class BrowserClientCombinationsTest {
    /** Loads switchboard.js and records what a socket sees in {@code window.seen}. */
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
            window.socket = socket;
            """;

    private static Chromium browser;
    private final List<String> notes = new CopyOnWriteArrayList<>();
    private final List<String> chatIds = new CopyOnWriteArrayList<>();
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
        // "pay" is handled but never answered: the page's retries are all it has.
        server = TestServer.start(TestServer.options().build(), sb -> {
            sb.onConnection(socket -> {
                socket.on("pay", event -> notes.add("pay " + event.arg(0, int.class)));
                socket.on("echo", event -> event.ack(event.arg(0, String.class)));
            });
            sb.of("/chat").onConnection(socket -> chatIds.add(socket.id()));
        });
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

    private String awaitSeen(String prefix) {
        return browser.waitUntil(tab, "'" + prefix + "' in what the socket saw", this::seen,
                driver -> seen().stream().filter(line -> line.startsWith(prefix)).reduce((a, b) -> b).orElse(null));
    }

    private void awaitSeenTimes(String line, long times) {
        browser.waitUntil(tab, times + " x '" + line + "' in what the socket saw", this::seen,
                driver -> seen().stream().filter(line::equals).count() >= times);
    }

    @Test
    void aRetriedEmitIsSentOnePlusRetriesTimesAlsoWhenDropsInterruptItsTries() {
        // A long ack timeout: only the sends can run out here, as when the event itself makes the
        // connection drop (a proxy that cannot pass it, say) before any timeout falls due.
        browser.script(tab, CONNECT, Map.of("retries", 1, "ackTimeout", 120_000));
        String id = awaitSeen("connect ").substring("connect ".length());
        browser.script(tab, """
                socket.emitWithAck('pay', 7).then((reply) => seen.push('reply ' + reply),
                    (err) => seen.push('failed ' + err.message));
                """);
        browser.waitUntil(tab, "the server handling pay 7", () -> notes, driver -> notes.contains("pay 7"));

        network.cut();   // send 1 was lost with its answer; after this reconnection comes send 2
        awaitSeenTimes("connect " + id + " recovered", 1);
        network.cut();   // send 2 lost too: its tries are used up, nothing is sent a third time
        awaitSeenTimes("connect " + id + " recovered", 2);

        // The Java client fails it here too (AtLeastOnceQueue.sendHead); before, the page resent
        // it after every drop, for as long as the drops came before its timeout.
        assertEquals("failed operation has timed out", awaitSeen("failed "));
        assertEquals(List.of("pay 7"), notes, "handled once");
    }

    @Test
    void aSocketLeftAndReopenedWhileItsConnectIsInFlightTakesTheAnswerToTheReopening() {
        browser.script(tab, CONNECT, Map.of());
        awaitSeen("connect ");
        // "/" keeps the WebSocket open while "/chat" connects, leaves and connects again at once,
        // as a page does that switches its user: the server answers the first connect, ends that
        // socket at the disconnect, then opens another for the second connect.
        browser.script(tab, """
                window.chat = socket.io.socket('/chat');
                chat.on('connect', () => seen.push('chat ' + chat.id + (chat.recovered ? ' recovered' : '')));
                chat.connect();
                chat.disconnect();
                chat.connect();
                """);
        awaitSeen("chat ");
        String live = Await.value("the second /chat socket at the server", () -> chatIds.size() == 2 ? chatIds.get(1) : null);
        // Before: the page took the first answer, of the socket it had just left, and dropped
        // the one for its live socket; its pid was then worth nothing and a drop lost the session.
        assertEquals("chat " + live, awaitSeen("chat "), "the page holds the id of its live socket");

        network.cut();
        awaitSeenTimes("chat " + live + " recovered", 1);
    }

    @Test
    void anEmitWithAckSentOnAConnectionThatDropsFailsAtTheDropAndOneMadeOfflineIsAnswered() {
        // A timeout far beyond the test's waits: only the drop can end the first emit in time.
        browser.script(tab, CONNECT, Map.of("ackTimeout", 300_000));
        awaitSeen("connect ");
        browser.script(tab, """
                socket.emitWithAck('pay', 7).then((reply) => seen.push('paid ' + reply),
                    (err) => seen.push('failed ' + err.message));
                """);
        browser.waitUntil(tab, "the server handling pay 7", () -> notes, driver -> notes.contains("pay 7"));

        network.refuse(true);   // stays offline until the emit below is buffered
        network.cut();
        awaitSeen("disconnect ");
        browser.script(tab, """
                socket.emitWithAck('echo', 'made offline').then((reply) => seen.push('echoed ' + reply),
                    (err) => seen.push('echo failed ' + err.message));
                """);

        // The server failed its side of the ack at the drop and never replays it, so the answer
        // cannot come; the Java client fails it at the drop too (DisconnectedException).
        assertEquals("failed socket has been disconnected", awaitSeen("failed "));
        network.refuse(false);
        assertEquals("echoed made offline", awaitSeen("echoed "), "an emit not sent yet is sent after the reconnection");
        assertEquals(List.of(), seen().stream().filter(line -> line.startsWith("echo failed")).toList());
        assertEquals(List.of("pay 7"), notes, "pay was not resent");
    }

    @Test
    void aRecoveryRefusedWith1013AfterHelloIsAFailedAttemptNotAReconnection() {
        // The store cannot be reached (a cluster node cut from Redis): the server says hello,
        // then closes with 1013 at the claim of the returning page's session, which it keeps.
        ClaimFailingStore store = new ClaimFailingStore();
        try (TestServer node = TestServer.start(TestServer.options().sessionStore(store).build(), sb -> { })) {
            network.retarget(node.port());
            browser.script(tab, CONNECT, Map.of("reconnectionAttempts", 3));
            String id = awaitSeen("connect ").substring("connect ".length());
            browser.script(tab, """
                    socket.on('reconnect_attempt', (n) => seen.push('attempt ' + n));
                    socket.on('reconnect', () => seen.push('reconnect'));
                    socket.io.on('reconnect_failed', () => seen.push('reconnect_failed'));
                    """);
            store.down(true);
            network.cut();
            List<String> attempts = browser.waitUntil(tab, "the page giving up, or four attempts", this::seen, driver -> {
                List<String> lines = seen().stream().filter(line -> line.startsWith("attempt ")
                        || line.startsWith("reconnect")).toList();
                return lines.contains("reconnect_failed") || lines.size() >= 8 ? lines : null;
            });
            // Before: hello counted as a reconnection and reset the attempts, so the page came back
            // at the base delay forever ("attempt 1", "reconnect", "attempt 1", ...); the Java client too.
            assertEquals(List.of("attempt 1", "attempt 2", "attempt 3", "reconnect_failed"), attempts);

            store.down(false);
            browser.script(tab, "socket.connect();");
            awaitSeen("connect " + id + " recovered");
        }
    }

    @Test
    void aServerThatStopsReadingFillsTheBoundedQueueAndBufferThenEmitsAreRefusedAndNothingAcceptedIsLost() throws Exception {
        try (PausableServer frozen = PausableServer.start(1_000_000, 1_000_000)) {
            tab = browser.open(URI.create(frozen.webSocketUri().toString().replaceFirst("^ws", "http") + ".js"));
            browser.script(tab, CONNECT, Map.of("sendQueueBytes", 64 * 1024, "maxBufferedEmits", 50));
            awaitSeen("connect ");
            frozen.pause();
            // The kernel's socket buffers take some megabytes first; past them, only the 64 KiB
            // the WebSocket may hold unwritten and the socket's 50 buffered emits. A page that
            // hands every event to the WebSocket would take all 48 MiB (the Java client: SendBufferTest).
            @SuppressWarnings("unchecked")
            Map<String, Object> result = (Map<String, Object>) browser.script(tab, """
                    const padding = 'x'.repeat(16 * 1024);
                    window.replies = [];
                    let refused = false;
                    socket.on('error', (error) => { refused = error.code === 'buffer_full'; });
                    let accepted = 0;
                    let mostUnwritten = 0;
                    while (!refused && accepted < 3000) {
                      const i = accepted;
                      socket.timeout(120000).emitWithAck('tick', i, padding)
                        .then((n) => replies.push(n), (err) => (err.code === 'buffer_full' ? seen : replies).push(i + ' failed ' + err.code));
                      if (!refused) {
                        accepted++;
                      }
                      mostUnwritten = Math.max(mostUnwritten, socket.io._ws.bufferedAmount);
                      if (accepted % 8 === 0) {
                        await new Promise((later) => setTimeout(later, 1)); // lets the browser write
                      }
                    }
                    return { accepted, refused, mostUnwritten, connected: socket.connected };
                    """);
            int accepted = ((Number) result.get("accepted")).intValue();
            System.out.println("figure: a frozen server; the page " + result);
            assertEquals(true, result.get("refused"), "all emits of 16 KiB were taken while the server read nothing: " + result);
            assertTrue(((Number) result.get("mostUnwritten")).longValue() < 128 * 1024, "unwritten bytes bounded: " + result);
            assertTrue(seen().contains(accepted + " failed buffer_full"), "the refused emit's promise: " + seen());
            assertEquals(true, result.get("connected"), "a full queue is not a reason to drop the connection");
            assertTrue(seen().stream().noneMatch(line -> line.startsWith("disconnect ")), String.valueOf(seen()));

            frozen.resume();
            List<Object> expected = new ArrayList<>(IntStream.range(0, accepted).boxed().map(Long::valueOf).toList());
            browser.waitUntil(tab, "every accepted emit answered", () -> browser.script(tab, "return replies.length;"),
                    driver -> ((Number) browser.script(tab, "return replies.length;")).intValue() >= accepted);
            assertEquals(expected, browser.script(tab, "return replies;"), "every accepted emit answered, in order");
        }
    }
}
