package dev.switchboard.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.client.ClientOptions;
import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.SwitchboardClient;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import dev.switchboard.demo.EchoApp;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RawTcp;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The deployment scenario in a servlet container, which runs a web application of the user's own
 * ({@link OwnWar}) beside the demo WAR: the library from its classes jar, started by the listener
 * README shows.
 */
abstract class WarScenario extends DeploymentScenario {
    private static final int HALF_OPEN_ADDRESSES = 3;
    private static final int HALF_OPEN_PER_ADDRESS = 100;
    /** Room on top of the container's timeout for a loaded machine: its timers run every second or so, and late. */
    private static final Duration SLACK = Duration.ofSeconds(30);

    /**
     * The timeout the container closes a silent connection after, as the deployment configures it
     * (docs/DEPLOY.md, <i>Slow, idle and half-open clients</i>): Tomcat's {@code connectionTimeout},
     * Jetty's {@code jetty.http.idleTimeout}.
     */
    protected abstract Duration connectionTimeout();

    /**
     * What the web application logs at its first upgrade when frames go out past the container's
     * JSR 356 send: Jetty's WebSocket connection, Tomcat's socket wrapper.
     */
    protected abstract String directPathInUse();

    /** A connection from {@code 127.0.0.<host>} that sends the request line and one header of an upgrade, then nothing. */
    private Socket halfOpenUpgrade(int host) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), site().port(), InetAddress.getByName("127.0.0." + host), 0);
        socket.getOutputStream().write(("GET " + site().endpointPath() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        return socket;
    }

    /** Whether the container ended this connection by {@code deadline} (epoch millis). */
    private static boolean closedBy(Socket socket, long deadline) throws IOException {
        return RawTcp.closedByServer(socket, Duration.ofMillis(deadline - System.currentTimeMillis()));
    }

    /** What the container sent on this connection before it closed it by {@code deadline} (epoch millis); null when still open. */
    private static String answeredAndClosedBy(Socket socket, long deadline) throws IOException {
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        try {
            for (long left = deadline - System.currentTimeMillis(); left > 0; left = deadline - System.currentTimeMillis()) {
                socket.setSoTimeout((int) left);
                int b = socket.getInputStream().read();
                if (b < 0) {
                    return answer.toString(StandardCharsets.UTF_8);
                }
                answer.write(b);
            }
        } catch (SocketTimeoutException e) {
            return null;
        } catch (SocketException e) {
            return answer.toString(StandardCharsets.UTF_8);
        }
        return null;
    }

    /** Sends a whole upgrade request a byte a second until it is sent or the connection fails; returns the bytes sent. */
    private int trickle(Socket socket) {
        byte[] request = ("GET " + site().endpointPath() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        int sent = 0;
        try {
            OutputStream out = socket.getOutputStream();
            while (sent < request.length) {
                out.write(request[sent++]);
                Thread.sleep(1000);
            }
        } catch (IOException | InterruptedException e) {
            // closed: by the container, or by the test when it is done
        }
        return sent;
    }

    private void assertServed() {
        try (RawClient client = RawClient.connect(site().webSocket())) {
            client.connectNamespace(EchoApp.NAMESPACE, null);
            assertEcho(client, "served");
        }
    }

    /** An Engine.IO long-polling request through the trusted proxy for the client 198.51.100.4; the whole answer. */
    private String pollThroughProxy(String method, String query, String body) throws IOException {
        try (RawTcp proxy = RawTcp.open(site().port(), TRUSTED_PROXY)) {
            return proxy.exchange(method, site().contextPath() + "/socket.io/?EIO=4&transport=polling" + query,
                    "X-Forwarded-For: 198.51.100.4\r\n", body);
        }
    }

    @Test
    void longPollingThroughATrustedProxySeesTheClientsAddress() throws Exception {
        Matcher sid = Pattern.compile("\"sid\":\"([^\"]+)\"").matcher(pollThroughProxy("GET", "", ""));
        assertTrue(sid.find());
        String session = "&sid=" + sid.group(1);
        assertTrue(pollThroughProxy("POST", session, "40" + EchoApp.NAMESPACE + ",\u001e42" + EchoApp.NAMESPACE
                + ",1[\"whoami\"]").endsWith("ok"));
        String answers = "";
        for (int polls = 0; polls < 3 && !answers.contains("43" + EchoApp.NAMESPACE + ",1"); polls++) {
            answers += pollThroughProxy("GET", session, "");
        }
        assertTrue(answers.contains("\"address\":\"198.51.100.4\""), answers);
    }

    /** A frame of the servlet that reads long-polling requests. */
    private static final Pattern ENGINE_IO_SERVLET_FRAME = Pattern.compile("at dev\\.switchboard\\.transport\\.servlet\\.EngineIoServlet");

    /** The head of a long-polling POST to {@code session} (HTTP/1.0: the answer ends with the connection) declaring {@code length} bytes. */
    private byte[] postHead(String session, int length) {
        return ("POST " + site().contextPath() + "/socket.io/?EIO=4&transport=polling" + session + " HTTP/1.0\r\n"
                + "Host: 127.0.0.1\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: " + length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Long-polling POSTs that send their head and never their body (or part of it) hold no
     * container thread: the servlet reads a body as it arrives. While they wait a WebSocket client
     * and a polling handshake are served, a body sent in two parts is read whole, and the
     * container's timeout ends the stalled ones (not with a 200) without an error logged. Part of
     * a body whose client went away reaches no session.
     */
    @Test
    void longPollingPostsWhoseBodyNeverComesHoldNoContainerThread() throws Exception {
        long mark = logLength();
        Matcher sid = Pattern.compile("\"sid\":\"([^\"]+)\"").matcher(pollThroughProxy("GET", "", ""));
        assertTrue(sid.find());
        String session = "&sid=" + sid.group(1);
        // Clients that go away mid-body, by a FIN and by a reset: had their part ("1", a close
        // packet) been handed on, the session would be closed, and the POST below refused.
        for (boolean reset : List.of(false, true)) {
            try (Socket gone = new Socket(InetAddress.getLoopbackAddress(), site().port())) {
                gone.getOutputStream().write(postHead(session, 100));
                gone.getOutputStream().write('1');
                Thread.sleep(200);
                gone.setSoLinger(reset, 0);
            }
        }
        List<Socket> stalled = new ArrayList<>();
        long start = System.currentTimeMillis();
        try {
            for (int i = 0; i < 6; i++) {
                Socket post = new Socket(InetAddress.getLoopbackAddress(), site().port());
                stalled.add(post);
                post.getOutputStream().write(postHead(session, 100));
                if (i % 2 == 1) {
                    post.getOutputStream().write("40".getBytes(StandardCharsets.US_ASCII));
                }
            }
            Thread.sleep(500);
            Map<String, String> first = containerThreadsIn(serverThreadDump(), ENGINE_IO_SERVLET_FRAME);
            Thread.sleep(500);
            Map<String, String> held = containerThreadsIn(serverThreadDump(), ENGINE_IO_SERVLET_FRAME);
            held.keySet().retainAll(first.keySet());
            assertTrue(held.isEmpty(), "container threads held reading a POST body: " + held.values());

            assertServed();
            assertTrue(pollThroughProxy("GET", "", "").contains("\"sid\""), "a polling handshake served");
            try (RawTcp split = RawTcp.open(site().port())) {
                byte[] body = ("40" + EchoApp.NAMESPACE + ",").getBytes(StandardCharsets.UTF_8);
                split.write(postHead(session, body.length));
                split.write(Arrays.copyOfRange(body, 0, 3));
                Thread.sleep(300);
                split.write(Arrays.copyOfRange(body, 3, body.length));
                String answer = new String(split.readToEnd(), StandardCharsets.UTF_8);
                assertTrue(answer.startsWith("HTTP/1.") && answer.contains(" 200 ") && answer.endsWith("ok"), answer);
            }

            long deadline = start + connectionTimeout().plus(SLACK).toMillis();
            List<String> answers = new ArrayList<>();
            for (Socket post : stalled) {
                String answer = answeredAndClosedBy(post, deadline);
                assertNotNull(answer, "a stalled POST still open " + (System.currentTimeMillis() - start) + " ms after it was sent");
                assertFalse(answer.contains(" 200 "), answer);
                answers.add(answer.lines().findFirst().orElse("(closed)"));
            }
            System.out.printf("%s: %d stalled POSTs ended by %d ms (timeout %d ms): %s%n", getClass().getSimpleName(),
                    stalled.size(), System.currentTimeMillis() - start, connectionTimeout().toMillis(), answers);
        } finally {
            for (Socket post : stalled) {
                post.close();
            }
        }
        String logged = loggedSince(mark);
        for (String alarm : List.of("Exception", "SEVERE", "WARN", "ERROR")) {
            assertFalse(logged.contains(alarm), logged);
        }
    }

    /** A frame of the HTTP API as the servlet runs it. */
    private static final Pattern HTTP_API_FRAME = Pattern.compile("at dev\\.switchboard\\.(transport\\.servlet\\.HttpApiServlet|http\\.)");

    /** The head of an HTTP API emit with a valid key (HTTP/1.0: the answer ends with the connection) declaring {@code length} bytes. */
    private byte[] apiEmitHead(int length) {
        return ("POST " + site().contextPath() + "/api/emit HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: apikey "
                + API_KEYS.get(1) + "\r\nContent-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * HTTP API requests that send their head and never their body (or part of it) hold no
     * container thread, as long-polling POSTs do not: the servlet reads a body as it arrives.
     * While they wait a WebSocket client is served and a body sent in two parts is read whole,
     * without an error logged. How the container's read timeout then ends a stalled body, through
     * the same reader, {@link #longPollingPostsWhoseBodyNeverComesHoldNoContainerThread} waits for.
     */
    @Test
    void apiRequestsWhoseBodyNeverComesHoldNoContainerThread() throws Exception {
        long mark = logLength();
        byte[] emit = ("{\"namespace\":\"" + EchoApp.NAMESPACE + "\",\"event\":\"news\",\"rooms\":[\"nobody\"]}")
                .getBytes(StandardCharsets.UTF_8);
        List<Socket> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                Socket post = new Socket(InetAddress.getLoopbackAddress(), site().port());
                stalled.add(post);
                post.getOutputStream().write(apiEmitHead(emit.length));
                if (i % 2 == 1) {
                    post.getOutputStream().write(emit, 0, 10);
                }
            }
            Thread.sleep(500);
            Map<String, String> first = containerThreadsIn(serverThreadDump(), HTTP_API_FRAME);
            Thread.sleep(500);
            Map<String, String> held = containerThreadsIn(serverThreadDump(), HTTP_API_FRAME);
            held.keySet().retainAll(first.keySet());
            assertTrue(held.isEmpty(), "container threads held reading an API request's body: " + held.values());

            assertServed();
            try (RawTcp split = RawTcp.open(site().port())) {
                split.write(apiEmitHead(emit.length));
                split.write(Arrays.copyOfRange(emit, 0, 10));
                Thread.sleep(300);
                split.write(Arrays.copyOfRange(emit, 10, emit.length));
                String answer = new String(split.readToEnd(), StandardCharsets.UTF_8);
                assertTrue(answer.startsWith("HTTP/1.") && answer.contains(" 200"), answer);
            }
        } finally {
            for (Socket post : stalled) {
                post.close();
            }
        }
        String logged = loggedSince(mark);
        for (String alarm : List.of("Exception", "SEVERE", "WARN", "ERROR")) {
            assertFalse(logged.contains(alarm), logged);
        }
    }

    /**
     * Half-open upgrades are the container's to close: its connection timeout ends them all while
     * a client upgrades and is served. A request trickled a byte a second is not closed by it (each
     * byte resets a read or idle timeout; docs/DEPLOY.md says so): the test holds that too, so that
     * the documentation learns when a container starts to bound it.
     */
    @Test
    void halfOpenUpgradesAreClosedWithinTheContainersTimeoutWhileAClientIsServed() throws Exception {
        List<Socket> attack = new ArrayList<>();
        long start = System.currentTimeMillis();
        try (Socket trickled = new Socket(InetAddress.getLoopbackAddress(), site().port(),
                InetAddress.getByName("127.0.0." + (2 + HALF_OPEN_ADDRESSES)), 0)) {
            CompletableFuture<Integer> trickledBytes = CompletableFuture.supplyAsync(() -> trickle(trickled));
            for (int host = 2; host < 2 + HALF_OPEN_ADDRESSES; host++) {
                for (int i = 0; i < HALF_OPEN_PER_ADDRESS; i++) {
                    attack.add(halfOpenUpgrade(host));
                }
            }
            long opened = System.currentTimeMillis() - start;
            assertServed();

            long deadline = start + connectionTimeout().plus(SLACK).toMillis();
            List<Long> closedAfter = new ArrayList<>();
            for (Socket socket : attack) {
                assertTrue(closedBy(socket, deadline), "a half-open upgrade still open " + (System.currentTimeMillis() - start)
                        + " ms after the attack began (timeout " + connectionTimeout().toMillis() + " ms)");
                closedAfter.add(System.currentTimeMillis() - start);
            }
            boolean trickleHeld = !closedBy(trickled, System.currentTimeMillis() + 2000);
            assertServed();
            trickled.close();
            int sent = trickledBytes.get();
            System.out.printf("%s: %d half-open upgrades from %d addresses (opened in %d ms) closed, the first %d ms, the last"
                            + " by %d ms after the attack began (timeout %d ms); a request sent a byte a second %s after %d bytes;"
                            + " a client served during and after%n",
                    getClass().getSimpleName(), attack.size(), HALF_OPEN_ADDRESSES, opened, closedAfter.get(0),
                    closedAfter.get(closedAfter.size() - 1), connectionTimeout().toMillis(),
                    trickleHeld ? "still open" : "closed", sent);
            assertTrue(trickleHeld, "the trickled request was closed after " + sent + " bytes: update docs/DEPLOY.md");
        } finally {
            for (Socket socket : attack) {
                socket.close();
            }
        }
    }

    /**
     * The direct path is the one in use, and what it sends arrives intact: text in every UTF-8
     * length (two, three and four bytes a character) and a message far larger than a socket
     * buffer, broadcast to two members of a room.
     */
    @Test
    void broadcastsGoOutThroughTheDirectPathIntact() throws Exception {
        assertBroadcastsArriveIntact(() -> connect(null));
    }

    /** A client connected to the deployment some way. */
    @FunctionalInterface
    interface Connect {
        ClientSocket client() throws Exception;
    }

    /** Two members of a room, each connected by {@code connect}, get a room's broadcasts intact, sent on the direct path. */
    void assertBroadcastsArriveIntact(Connect connect) throws Exception {
        ClientSocket ann = connect.client();
        ClientSocket bob = connect.client();
        ClientSocket sender = connect.client();
        BlockingQueue<List<String>> annInbox = inbox(ann, "room-message");
        BlockingQueue<List<String>> bobInbox = inbox(bob, "room-message");
        ack(ann.emitWithAck("join", "utf8"));
        ack(bob.emitWithAck("join", "utf8"));
        // Logged once, at the first upgrade of the web application.
        assertTrue(loggedSince(0).contains(directPathInUse()), loggedSince(0));

        String multiByte = "Zoë paid 5 € for 🍕, ąęł ok";
        // About 600 KiB in UTF-8, under the 1 MiB limit on the sender's message.
        String large = "é€🙂x".repeat(60_000);
        for (String text : List.of(multiByte, large)) {
            ack(sender.emitWithAck("to-room", "utf8", text));
            assertEquals(List.of("utf8", text), next(annInbox));
            assertEquals(List.of("utf8", text), next(bobInbox));
        }
    }

    @Test
    void aWarOfYourOwnRunsTheLibraryFromItsClassesJar() throws Exception {
        Site own = new Site(site().port(), OwnWar.CONTEXT_PATH);
        try (SwitchboardClient client = SwitchboardClient.connect(own.webSocket(),
                ClientOptions.builder().reconnection(false).build())) {
            ClientSocket socket = client.socket("/", null).whenConnected().get(10, TimeUnit.SECONDS);
            BlockingQueue<String> chat = new LinkedBlockingQueue<>();
            socket.on("chat", event -> chat.add(event.arg(0, String.class)));
            socket.emit("chat", "hello");
            assertEquals("hello", chat.poll(10, TimeUnit.SECONDS));

            // README's in-process pattern: the application's own servlet emits through the installed server.
            BlockingQueue<String> notices = new LinkedBlockingQueue<>();
            socket.on("notice", event -> notices.add(event.arg(0, String.class)));
            HttpResponse<String> posted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            own.http("/notices?room=" + socket.id())).POST(HttpRequest.BodyPublishers.ofString("order 7 saved")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(204, posted.statusCode(), posted.body());
            assertEquals("order 7 saved", notices.poll(10, TimeUnit.SECONDS));
        }
        // The jar also holds the standalone server; nothing may reach for its Grizzly or Tyrus. Their
        // package names, not the bare words, which a checkout's path may contain.
        String log = loggedSince(0);
        for (String trouble : List.of("ClassNotFoundException", "NoClassDefFoundError", "org.glassfish.grizzly",
                "org.glassfish.tyrus")) {
            assertFalse(log.contains(trouble), log);
        }
    }
}
