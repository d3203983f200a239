package dev.switchboard.deployment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.client.ClientOptions;
import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.demo.BrowserTest;
import dev.switchboard.demo.ChatPage;
import dev.switchboard.demo.Chromium;
import dev.switchboard.demo.DashboardFeed;
import dev.switchboard.demo.EchoApp;
import dev.switchboard.protocol.Arguments;
import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.protocol.ReservedEvents;
import dev.switchboard.testing.ApiClient;
import dev.switchboard.testing.NodeClient;
import dev.switchboard.testing.Heap;
import dev.switchboard.testing.PrometheusText;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.transport.WebSocketLayerContract;
import jakarta.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The core client scenario against one deployment of the demo (its {@link EchoApp} namespace and
 * its pages): events and acks both ways, rooms, private messages to a user, a concurrent broadcast
 * to one socket, a client that stops reading, the size limit, the origin check, the static files
 * and the chat page in a browser; and, inherited, the frame- and handshake-level cases of
 * {@link WebSocketLayerContract}. Each deployment's test extends this and says where the
 * deployment is; the cases stay one list. (One class rather than nested ones: Surefire files the
 * tests of an inherited nested class under that class, for every deployment at once.)
 */
abstract class DeploymentScenario extends WebSocketLayerContract {
    /**
     * The heartbeat and the per-address connection cap every deployment under test runs with:
     * short, so that a connection a container holds open ends within the tests' waits; low, so
     * that the cap can be reached ({@link #testFlags()}, {@code DemoApp.options()}).
     */
    static final Duration PING_INTERVAL = Duration.ofSeconds(1);
    static final Duration PING_TIMEOUT = Duration.ofSeconds(2);
    static final int MAX_CONNECTIONS_PER_ADDRESS = 20;
    /** The one address every deployment under test believes forwarding headers from; no other test connects from it. */
    static final String TRUSTED_PROXY = "127.0.0.9";
    /**
     * The HTTP API's keys in every deployment under test ({@code -Ddemo.apiKey}): the first for
     * the API cases, the second to show that any configured key works, the third to be flooded.
     */
    static final List<String> API_KEYS = List.of("deploy-key-one", "deploy-key-two", "deploy-key-flood");
    private static final String KEY = API_KEYS.get(0);
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** A log line's level, as java.util.logging and Tomcat ({@code SEVERE}) and Jetty ({@code ERROR}) write it. */
    private static final Pattern ERROR_LEVEL = Pattern.compile("\\b(SEVERE|ERROR)\\b");
    /**
     * HTTP/1.1 as browsers speak it to a plain-http server: the JDK's default offers an h2c
     * upgrade, which makes Grizzly leave out Content-Type.
     */
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** Where a deployment answers: its port and context path ({@code ""} at the root). */
    record Site(int port, String contextPath) {
        URI http(String path) {
            return URI.create("http://127.0.0.1:" + port + contextPath + path);
        }

        String endpointPath() {
            return contextPath + "/switchboard";
        }

        URI webSocket() {
            return URI.create("ws://127.0.0.1:" + port + endpointPath());
        }
    }

    /** Local links of a page: src and href values without a scheme. */
    private static final Pattern LINK = Pattern.compile("(?:src|href)=\"(?![a-z]+:)([^\"#?]+)");

    private final List<SwitchboardClient> clients = new CopyOnWriteArrayList<>();
    /** The connection counts of the server's dashboard, once {@link #awaitConnections} subscribed. */
    private BlockingQueue<Count> dashboard;

    /**
     * Stops a deployment's process as an operator would (SIGTERM) and checks that the server
     * went away gracefully: a connected client is told 1001, going away.
     */
    static void stopGracefully(ServerProcess server, Site site) {
        if (server == null) {
            return;
        }
        try (RawClient client = RawClient.connect(site.webSocket())) {
            server.close();
            assertEquals(1001, client.awaitClose(), server.logTail());
        } finally {
            server.close();
        }
    }

    /** The JVM flags that give a deployment's process the test heartbeat and cap (read by {@code DemoApp.options()}). */
    static List<String> testFlags() {
        return List.of("-Dswitchboard.pingInterval=" + PING_INTERVAL.toMillis(),
                "-Dswitchboard.pingTimeout=" + PING_TIMEOUT.toMillis(),
                "-Dswitchboard.maxConnectionsPerAddress=" + MAX_CONNECTIONS_PER_ADDRESS,
                "-Dswitchboard.trustedProxies=" + TRUSTED_PROXY,
                "-Ddemo.apiKey=" + String.join(",", API_KEYS));
    }

    /** The deployment under test, running. */
    protected abstract Site site();

    /** The deployment's own process; none for a server in this JVM. */
    protected Optional<ServerProcess> process() {
        return Optional.empty();
    }

    /** The log file of the deployment's process. */
    private Optional<Path> log() {
        return process().map(ServerProcess::log);
    }

    /** Where the log ends now. */
    long logLength() throws IOException {
        return log().isPresent() ? Files.size(log().get()) : 0;
    }

    /** What the deployment logged since {@code mark} (nothing without a log). */
    protected String loggedSince(long mark) throws IOException {
        if (log().isEmpty()) {
            return "";
        }
        byte[] all = Files.readAllBytes(log().get());
        return new String(all, (int) mark, all.length - (int) mark, StandardCharsets.UTF_8);
    }

    /**
     * Fails if the deployment logged a line at level SEVERE or ERROR, or a stack frame of ours,
     * since {@code mark}. Lines at other levels pass: Tomcat's INFO line for a request it refuses
     * itself, and the application's INFO line at its first upgrade, which names our package.
     */
    void assertNoErrorLoggedSince(long mark) throws IOException {
        String logged = loggedSince(mark);
        assertFalse(logged.contains("at dev.switchboard."), logged);
        assertFalse(ERROR_LEVEL.matcher(logged).find(), logged);
    }

    /** Fails if the deployment logged a warning, an error or an exception since {@code mark}. */
    private void assertNothingLoggedSince(long mark) throws IOException {
        String logged = loggedSince(mark);
        for (String alarm : List.of("Exception", "SEVERE", "WARN", "ERROR")) {
            assertFalse(logged.contains(alarm), logged);
        }
    }

    @Override
    protected int port() {
        return site().port();
    }

    @Override
    protected String path() {
        return site().endpointPath();
    }

    /** The CPU time the server's process has used so far, where it runs in a process of its own. */
    private Optional<Duration> serverCpuTime() {
        return process().flatMap(ServerProcess::cpuTime);
    }

    /** What this deployment's container answers where containers differ. */
    protected abstract WebSocketLayerContract.Answers webSocketLayerAnswers();

    @Override
    protected Answers answers() {
        return webSocketLayerAnswers();
    }

    @AfterEach
    void closeClients() {
        clients.forEach(SwitchboardClient::close);
    }

    /** A connected socket on the echo namespace, as {@code user} (or anonymous). */
    ClientSocket connect(String user) throws Exception {
        return connect(site().webSocket(), ClientOptions.builder().reconnection(false).build(), user);
    }

    /** A client of the echo namespace at {@code endpoint}, closed after the test. */
    ClientSocket connect(URI endpoint, ClientOptions options, String user) throws Exception {
        SwitchboardClient client = SwitchboardClient.connect(endpoint, options);
        clients.add(client);
        return client.socket(EchoApp.NAMESPACE, user == null ? null : new EchoApp.Auth(user))
                .whenConnected().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    static BlockingQueue<List<String>> inbox(ClientSocket socket, String event) {
        BlockingQueue<List<String>> inbox = new LinkedBlockingQueue<>();
        socket.on(event, received -> inbox.add(strings(received.args())));
        return inbox;
    }

    private static List<String> strings(Arguments args) {
        List<String> strings = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            strings.add(args.get(i, String.class));
        }
        return strings;
    }

    static List<String> next(BlockingQueue<List<String>> inbox) throws InterruptedException {
        List<String> args = inbox.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(args, "nothing received within " + WAIT);
        return args;
    }

    static Arguments ack(CompletableFuture<Arguments> answer) throws Exception {
        return answer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void demoPageLoadsWithEverythingItLinks() throws Exception {
        URI pageUri = site().http("/");
        HttpResponse<String> page = get(pageUri);
        assertEquals(200, page.statusCode());
        List<String> links = new ArrayList<>();
        Matcher matcher = LINK.matcher(page.body());
        while (matcher.find()) {
            links.add(matcher.group(1));
        }
        assertTrue(links.stream().anyMatch(link -> link.endsWith("switchboard.js")), links.toString());
        if (!site().contextPath().isEmpty()) {
            // Relative links need the trailing slash: the container adds it.
            HttpResponse<String> bare = get(site().http(""));
            assertTrue(bare.statusCode() == 301 || bare.statusCode() == 302, "status " + bare.statusCode());
            assertEquals(pageUri.getPath(), URI.create(bare.headers().firstValue("Location").orElseThrow()).getPath());
        }
        for (String link : links) {
            // Relative, so that the page works under any context path (/myapp/ as well as /).
            assertFalse(link.startsWith("/"), link);
            HttpResponse<String> linked = get(pageUri.resolve(link));
            assertEquals(200, linked.statusCode(), link);
            if (link.endsWith(".js")) {
                assertTrue(linked.headers().firstValue("Content-Type").orElse("").contains("javascript"), link);
            }
        }
    }

    private static HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The chat page's own script finds the endpoint beside the page, under the context path. */
    @Test
    @BrowserTest
    void twoBrowserTabsChatThroughTheDeployedPage() {
        try (Chromium browser = Chromium.start()) {
            ChatPage ann = ChatPage.open(browser, site().http("/")).joinAs("ann");
            ChatPage bob = ChatPage.open(browser, site().http("/")).joinAs("bob");
            bob.send("hello from bob");
            ann.waitForLine("bob", "hello from bob");
        }
    }

    @Test
    void eventsAndAcksBothWays() throws Exception {
        ClientSocket socket = connect(null);
        Arguments echoed = ack(socket.emitWithAck("echo", "hi", 42, Map.of("list", List.of(1, 2))));
        assertEquals("hi", echoed.get(0, String.class));
        assertEquals(42, echoed.get(1, Integer.class));
        assertEquals("{\"list\":[1,2]}", echoed.raw(2).text());

        socket.on("question", event -> event.ack("answer to " + event.arg(0, String.class)));
        assertEquals("answer to life", ack(socket.emitWithAck("ask", "life")).get(0, String.class));
    }

    /**
     * The official socket.io-client, once with its default options (long-polling, then the
     * upgrade to WebSocket) and once over WebSocket only, in a room with a native client.
     */
    @Test
    void socketIoClientsByPollingThenWebSocketAndByWebSocketShareARoomWithANativeClient() throws Exception {
        ClientSocket native_ = connect("ann");
        BlockingQueue<List<String>> heard = inbox(native_, "room-message");
        ack(native_.emitWithAck("join", "r1"));
        try (NodeClient node = NodeClient.start()) {
            String url = "http://127.0.0.1:" + site().port() + EchoApp.NAMESPACE;
            String path = site().contextPath() + "/socket.io/";
            node.send("{'op':'open','name':'polling','url':'" + url + "','options':{'path':'" + path + "'}}");
            node.send("{'op':'open','name':'ws','url':'" + url + "','options':{'path':'" + path
                    + "','transports':['websocket']}}");
            node.next("polling", "connect");
            assertEquals("websocket", node.next("polling", "upgrade").getString("transport"), "upgraded from polling");
            node.next("ws", "connect");
            for (String name : List.of("polling", "ws")) {
                node.send("{'op':'emitWithAck','name':'" + name + "','id':1,'event':'join','args':['r1'],'timeout':10000}");
                assertEquals("[\"r1\"]", node.next(name, "ack").getJsonArray("args").toString());
            }
            node.send("{'op':'emitWithAck','name':'polling','id':2,'event':'to-room','args':['r1','from node'],'timeout':10000}");
            assertEquals(List.of("r1", "from node"), next(heard));
            assertEquals("from node", node.nextEvent("ws", "room-message").getJsonArray("args").getString(1));
            native_.emit("to-room", "r1", "from java");
            for (String name : List.of("polling", "ws")) {
                assertEquals("from java", node.nextEvent(name, "room-message").getJsonArray("args").getString(1));
            }
        }
    }

    /**
     * A long-polling request whose query is no URI as RFC 3986 has it (an escape that is none, a
     * lone {@code %}, a character it does not allow) is answered 400 as any bad request, on every
     * deployment (Tomcat refuses some of these itself), without a stack trace of ours in the log.
     */
    @Test
    void aPollingRequestWhoseQueryIsNoUriIsAnswered400() throws Exception {
        long mark = logLength();
        for (String query : List.of("&x=a%ZZ", "&x=%", "&x=a|b", "&x=a^b")) {
            String answer;
            try (RawTcp client = RawTcp.open(site().port())) {
                answer = client.exchange("GET", site().contextPath() + "/socket.io/?EIO=4&transport=polling" + query, "", "");
            } catch (SocketTimeoutException e) {
                answer = "(no answer within 10 s)";
            }
            assertTrue(answer.startsWith("HTTP/1.") && answer.lines().findFirst().orElseThrow().contains(" 400"),
                    query + ": " + (answer.isEmpty() ? "(closed without an answer)" : answer.lines().findFirst().orElseThrow()));
        }
        assertNoErrorLoggedSince(mark);
    }

    /**
     * A WebSocket upgrade whose query is no URI as RFC 3986 has it (an escape that is none, a lone
     * {@code %}) is refused with 400 as a bad request, on both endpoints and every deployment,
     * without a stack trace in the log; the same upgrade with a query that is one is accepted.
     */
    @Test
    void aWebSocketUpgradeWhoseQueryIsNoUriIsAnswered400() throws Exception {
        long mark = logLength();
        String socketIo = site().contextPath() + "/socket.io/?EIO=4&transport=websocket";
        List<String> answers = new ArrayList<>();
        for (String target : List.of(site().endpointPath() + "?x=a%ZZ", site().endpointPath() + "?x=%",
                socketIo + "&x=a%ZZ", socketIo + "&x=%")) {
            String head;
            try (RawTcp tcp = RawTcp.open(site().port())) {
                head = tcp.requestUpgrade(site().port(), target, "");
            } catch (SocketTimeoutException e) {
                head = "(no answer within 10 s)";
            }
            answers.add(target + ": " + (head.isEmpty() ? "(closed without an answer)" : head.lines().findFirst().orElseThrow()));
        }
        assertTrue(answers.stream().allMatch(answer -> answer.contains(": HTTP/1.1 400")), answers.toString());
        try (RawTcp tcp = RawTcp.open(site().port())) {
            String head = tcp.requestUpgrade(site().port(), site().endpointPath() + "?x=a%25ZZ", "");
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
        }
        assertNoErrorLoggedSince(mark);
    }

    /**
     * A WebSocket upgrade whose query holds characters browsers send unescaped ({@code [ ] | ^ { }}
     * and the backtick: {@code new WebSocket("ws://host/switchboard?ids[]=1")}), on either
     * endpoint: upgraded where the container can upgrade it, else a 400, from the container or
     * from us; never a 500, nor an error or a stack trace of ours in the log.
     */
    @Test
    void aWebSocketUpgradeWhoseQueryHoldsWhatBrowsersLeaveUnescapedIsUpgradedWhereTheContainerCan() throws Exception {
        long mark = logLength();
        String socketIo = site().contextPath() + "/socket.io/?EIO=4&transport=websocket&";
        List<String> answers = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (String endpoint : List.of(site().endpointPath() + "?", socketIo)) {
            for (String query : List.of("ids[]=1", "x={a}|b^c`d")) {
                try (RawTcp tcp = RawTcp.open(site().port())) {
                    String head = tcp.requestUpgrade(site().port(), endpoint + query, "");
                    answers.add(query + ": " + (head.isEmpty() ? "(closed without an answer)" : head.lines().findFirst().orElseThrow()));
                }
            }
            expected.add("ids[]=1: HTTP/1.1 " + answers().unescapedQuery().get(0) + " ");
            expected.add("x={a}|b^c`d: HTTP/1.1 " + answers().unescapedQuery().get(1) + " ");
        }
        for (int i = 0; i < answers.size(); i++) {
            assertTrue(answers.get(i).startsWith(expected.get(i)), "expected " + expected + ", got " + answers);
        }
        assertNoErrorLoggedSince(mark);
    }

    /**
     * Binary arguments through the deployed server: the native Java client and socket.io-client,
     * by long-polling and by WebSocket, each get their bytes echoed back as binary.
     */
    @Test
    void binaryArgumentsAreEchoedOnBothWireFormatsAndAllTransports() throws Exception {
        byte[] bytes = {0, 1, (byte) 0xff, 'x'};
        ClientSocket socket = connect(null);
        Arguments echoed = ack(socket.emitWithAck("echo", "file", bytes, Map.of("nested", bytes)));
        assertArrayEquals(bytes, echoed.get(1, byte[].class));
        assertArrayEquals(bytes, echoed.attachment(1));
        try (NodeClient node = NodeClient.start()) {
            String url = "http://127.0.0.1:" + site().port() + EchoApp.NAMESPACE;
            String path = site().contextPath() + "/socket.io/";
            node.send("{'op':'open','name':'polling','url':'" + url + "','options':{'path':'" + path
                    + "','transports':['polling']}}");
            node.send("{'op':'open','name':'ws','url':'" + url + "','options':{'path':'" + path
                    + "','transports':['websocket']}}");
            String base64 = java.util.Base64.getEncoder().encodeToString(bytes);
            for (String name : List.of("polling", "ws")) {
                node.next(name, "connect");
                node.send("{'op':'emitWithAck','name':'" + name + "','id':1,'event':'echo','args':['file',{'$binary':'"
                        + base64 + "'}],'timeout':10000}");
                JsonObject binary = node.next(name, "ack").getJsonArray("args").getJsonObject(1);
                assertEquals(base64, binary.getString("$binary"), name);
                assertEquals("Buffer", binary.getString("$type"), name);
            }
        }
    }

    @Test
    void theServerSeesTheClientAddress() throws Exception {
        ClientSocket socket = connect("ann");
        EchoApp.Identity identity = ack(socket.emitWithAck("whoami")).get(0, EchoApp.Identity.class);
        assertEquals(new EchoApp.Identity(socket.id(), "ann", "127.0.0.1"), identity);
    }

    @Test
    void roomsReachTheirMembersOnly() throws Exception {
        ClientSocket ann = connect(null);
        ClientSocket bob = connect(null);
        ClientSocket cat = connect(null);
        BlockingQueue<List<String>> annInbox = inbox(ann, "room-message");
        BlockingQueue<List<String>> bobInbox = inbox(bob, "room-message");
        assertEquals("red", ack(ann.emitWithAck("join", "red")).get(0, String.class));
        assertEquals("blue", ack(bob.emitWithAck("join", "blue")).get(0, String.class));

        ack(cat.emitWithAck("to-room", "red", "first"));
        ack(cat.emitWithAck("to-room", "blue", "second"));
        ack(cat.emitWithAck("to-room", "red", "third"));
        // One sender, so each member gets its messages in order: a stray one would come between.
        assertEquals(List.of("red", "first"), next(annInbox));
        assertEquals(List.of("red", "third"), next(annInbox));
        assertEquals(List.of("blue", "second"), next(bobInbox));
    }

    @Test
    void privateMessagesReachEverySocketOfTheUser() throws Exception {
        ClientSocket annPhone = connect("ann");
        ClientSocket annLaptop = connect("ann");
        ClientSocket bob = connect("bob");
        BlockingQueue<List<String>> phone = inbox(annPhone, "private");
        BlockingQueue<List<String>> laptop = inbox(annLaptop, "private");
        BlockingQueue<List<String>> bobs = inbox(bob, "private");

        ack(bob.emitWithAck("to-user", "ann", "psst"));
        ack(bob.emitWithAck("to-user", "bob", "note to self"));
        assertEquals(List.of("bob", "psst"), next(phone));
        assertEquals(List.of("bob", "psst"), next(laptop));
        assertEquals(List.of("bob", "note to self"), next(bobs));
    }

    @Test
    void concurrentBroadcastToOneSocketArrivesWholeAndInOrderPerThread() throws Exception {
        int count = 2000;
        int threads = 8;
        ClientSocket socket = connect(null);
        List<Integer> received = new CopyOnWriteArrayList<>();
        socket.on("burst", event -> received.add(event.arg(0, Integer.class)));
        ack(socket.emitWithAck("join", "burst"));
        long logMark = logLength();

        // The ack is sent after every burst event was queued, and frames keep their order.
        assertEquals(count, ack(socket.timeout(Duration.ofSeconds(30)).emitWithAck("burst", "burst", count, threads))
                .get(0, Integer.class));
        // Concurrent sends on one session make containers throw (Tomcat: TEXT_PARTIAL_WRITING).
        assertNothingLoggedSince(logMark);
        assertEquals(count, received.size());
        assertEquals(count, new HashSet<>(received).size());
        for (int thread = 0; thread < threads; thread++) {
            int t = thread;
            List<Integer> sent = received.stream().filter(i -> i % threads == t).toList();
            assertEquals(sent.stream().sorted().toList(), sent, "thread " + t);
        }
    }

    @Test
    void aClientThatStopsReadingIsCutOffWhileAnotherKeepsReceiving() throws Exception {
        // 16 MiB: the 4 MiB send queue plus what the kernel buffers (the server's send buffer grows
        // to 4 MiB on Linux; the stalled receiver's stays at its initial 128 KiB), twice over.
        int count = 1024;
        int size = 16 * 1024;
        ClientSocket reader = connect("reader");
        List<Integer> flood = new CopyOnWriteArrayList<>();
        reader.on("flood", event -> flood.add(event.arg(0, Integer.class)));
        reader.on("flood-sync", event -> event.ack());
        BlockingQueue<List<String>> gone = inbox(reader, "gone");
        BlockingQueue<List<String>> roomMessages = inbox(reader, "room-message");
        ack(reader.emitWithAck("join", "flood"));

        // It sends, but never reads a byte of what the server answers.
        try (RawTcp stalled = rawMemberOf("flood", "stalled", roomMessages)) {
            long logMark = logLength();

            assertEquals(count, ack(reader.timeout(Duration.ofSeconds(60)).emitWithAck("flood", "flood", count, size))
                    .get(0, Integer.class));
            assertEquals(List.of("stalled", "slow consumer"), next(gone));
            assertEquals(IntStream.range(0, count).boxed().toList(), flood);
            // The container lets go of the connection and its buffers while the client still
            // reads nothing (the standalone server and Jetty after their close deadline, Tomcat at
            // once).
            long evicted = System.nanoTime();
            while (stalled.serverStillHolds() && System.nanoTime() - evicted < Duration.ofSeconds(30).toNanos()) {
                Thread.sleep(100);
            }
            System.out.println("figure: " + deployment() + ": stalled reader, connection let go "
                    + Duration.ofNanos(System.nanoTime() - evicted).toMillis() + " ms after its eviction");
            assertFalse(stalled.serverStillHolds(), "the server still holds the stalled connection");
            // Read now, it ends instead of staying open.
            int code = stalled.readCloseCode(Duration.ofSeconds(60));
            System.out.println("figure: " + deployment() + ": stalled reader, read after its eviction -> "
                    + (code == -1 ? "closed without a close frame" : "close " + code));
            assertNotEquals(RawTcp.STILL_OPEN, code);
            assertNothingLoggedSince(logMark);
        }
    }

    /**
     * RFC 6455, 5.5.1: after sending a Close frame, an endpoint must not send any further data
     * frames. A client closes while a burst to its room is being written to it and reads on: once
     * the server's answer to its close frame has come, nothing else does. The containers' own sends
     * refuse frames once their close frame is sent; the direct paths (the standalone server's frame
     * writer, Tomcat's socket wrapper) write underneath them. Several attempts, each counting the
     * data frames after the close frame; an attempt whose close frame the server never sent (the
     * connection dropped first) says nothing either way.
     */
    @Test
    void noDataFrameFollowsTheAnswerToAClientsCloseFrame() throws Exception {
        ClientSocket sender = connect("sender");
        BlockingQueue<List<String>> roomMessages = inbox(sender, "room-message");
        ack(sender.emitWithAck("join", "closing"));
        int answered = 0;
        int dataAfterClose = 0;
        int attempts = 10;
        for (int attempt = 0; attempt < attempts; attempt++) {
            try (RawTcp closer = rawMemberOf("closing", "closer-" + attempt, roomMessages)) {
                CompletableFuture<?> burst = sender.timeout(Duration.ofSeconds(30)).emitWithAck("burst", "closing", 2000, 1);
                int burstFrames = 0;
                boolean closeSeen = false;
                try {
                    while (!closeSeen) {
                        RawTcp.Frame frame = closer.nextFrame(Duration.ofSeconds(10));
                        if (frame.opcode() == RawTcp.Frame.CLOSE) {
                            closeSeen = true;
                        } else if (frame.opcode() == RawTcp.Frame.TEXT && frame.text().contains("\"burst\"")
                                && ++burstFrames == 100) {
                            closer.write(CLOSE_1000);
                        }
                    }
                    answered++;
                    while (true) {
                        RawTcp.Frame after = closer.nextFrame(Duration.ofSeconds(10));
                        System.out.println("figure: " + deployment() + ": after the close frame, opcode " + after.opcode()
                                + ": " + (after.opcode() == RawTcp.Frame.TEXT ? after.text() : ""));
                        dataAfterClose++;
                    }
                } catch (EOFException | SocketException | SocketTimeoutException e) {
                    // the connection ended (or the server kept it, which the frames after the close say nothing of)
                }
                try {
                    burst.get(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    // the burst's ack says nothing here
                }
            }
        }
        System.out.println("figure: " + deployment() + ": a client's close during a burst, " + attempts + " attempts: "
                + answered + " close frames answered, " + dataAfterClose + " data frames after them");
        assertTrue(answered > 0, "no close frame of the client's was answered in " + attempts + " attempts");
        assertEquals(0, dataAfterClose, "data frames after the close frame, over " + answered + " answered closes");
    }

    /**
     * A raw TCP peer on /echo as {@code user}, joined to {@code room}, which it has told "joined";
     * returns once another member saw that in {@code roomMessages}. It reads nothing.
     */
    RawTcp rawMemberOf(String room, String user, BlockingQueue<List<String>> roomMessages) throws Exception {
        RawTcp peer = RawTcp.upgrade(site().port(), site().endpointPath());
        for (String packet : List.of("{'type':'connect','nsp':'/echo','auth':{'user':'" + user + "'}}",
                "{'type':'event','nsp':'/echo','event':'join','args':['" + room + "']}",
                "{'type':'event','nsp':'/echo','event':'to-room','args':['" + room + "','joined']}")) {
            peer.write(textFrame(packet));
        }
        assertEquals(List.of(room, "joined"), next(roomMessages));
        return peer;
    }

    @Test
    void aMessageOfExactlyMaxPayloadPassesOneByteMoreClosesWith1009() throws Exception {
        int max = SwitchboardOptions.defaults().maxPayloadBytes();
        String head = "{\"type\":\"event\",\"nsp\":\"" + EchoApp.NAMESPACE + "\",\"event\":\"echo\",\"args\":[\"";
        String tail = "\"],\"ack\":1}";
        String fill = "x".repeat(max - head.length() - tail.length());
        try (RawClient raw = RawClient.connect(site().webSocket())) {
            raw.connectNamespace(EchoApp.NAMESPACE, null);
            raw.send(head + fill + tail);
            JsonObject ack = raw.next("ack");
            assertEquals(fill.length(), ack.getJsonArray("args").getString(0).length());
        }
        // Our limit, not the container's: the reason is the server's own.
        assertEquals("1009 policy violation", closeAfterSending(head + fill + "x" + tail));
    }

    /** Sends one message and returns the close code and reason the server answers with. */
    private String closeAfterSending(String message) throws Exception {
        CompletableFuture<String> closed = new CompletableFuture<>();
        WebSocket webSocket = HTTP.newWebSocketBuilder().buildAsync(site().webSocket(), new WebSocket.Listener() {
            @Override
            public CompletableFuture<?> onClose(WebSocket ws, int code, String reason) {
                closed.complete(code + " " + reason);
                return null;
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                closed.completeExceptionally(error);
            }
        }).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        try {
            webSocket.sendText(message, true);
            return closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } finally {
            webSocket.abort();
        }
    }

    @Test
    void foreignOriginGets403OwnOriginIsUpgradedWithoutCompression() throws IOException {
        assertEquals("HTTP/1.1 403", upgradeHead("Origin: http://evil.example\r\n").substring(0, 12));
        String head = upgradeHead("Origin: http://127.0.0.1:" + site().port() + "\r\n"
                + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
        assertTrue(head.startsWith("HTTP/1.1 101"), head);
        assertFalse(head.toLowerCase(Locale.ROOT).contains("permessage-deflate"), head);
    }

    @Test
    void malformedUpgradesAreRefused() throws IOException {
        assertEquals("HTTP/1.1 400", rawUpgradeHead("Sec-WebSocket-Version: 13\r\n").substring(0, 12));
        String head = rawUpgradeHead("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n");
        assertTrue(head.startsWith("HTTP/1.1 426"), head);
        assertTrue(head.contains("Sec-WebSocket-Version: 13"), head);
    }

    /** The head of the answer to an upgrade request with only these WebSocket headers. */
    private String rawUpgradeHead(String webSocketHeaders) throws IOException {
        try (RawTcp tcp = RawTcp.open(site().port())) {
            tcp.write(("GET " + site().endpointPath() + " HTTP/1.1\r\nHost: 127.0.0.1:" + site().port()
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + webSocketHeaders + "\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            return tcp.readHead();
        }
    }

    private String upgradeHead(String extraHeaders) throws IOException {
        try (RawTcp tcp = RawTcp.open(site().port())) {
            return tcp.requestUpgrade(site().port(), site().endpointPath(), extraHeaders);
        }
    }

    // ---- a peer that never answers our close; the connection cap (docs/RELIABILITY.md, cases 233 and 11) ----

    /** One figure of the server's dashboard: when it was measured (the server's clock, this machine's) and the open connections. */
    private record Count(long time, int connections) {
    }

    /**
     * Waits for the server's dashboard to report, in a figure measured from {@code sinceMillis} on,
     * a count of open connections that {@code wanted} accepts; the dashboard's own client counts.
     * Its figures come once a second.
     */
    private int awaitConnections(long sinceMillis, IntPredicate wanted) throws Exception {
        return awaitConnections(sinceMillis, wanted, Duration.ofSeconds(30));
    }

    /** As {@link #awaitConnections(long, IntPredicate)}, failing unless the dashboard reports it {@code within} that time. */
    private int awaitConnections(long sinceMillis, IntPredicate wanted, Duration within) throws Exception {
        if (dashboard == null) {
            dashboard = new LinkedBlockingQueue<>();
            SwitchboardClient client = SwitchboardClient.connect(site().webSocket(),
                    ClientOptions.builder().reconnection(false).build());
            clients.add(client);
            BlockingQueue<Count> counts = dashboard;
            client.socket(DashboardFeed.NAMESPACE).on("stats", event -> {
                JsonObject stats = RawClient.parse(event.args().raw(0).text());
                counts.add(new Count(stats.getJsonNumber("time").longValue(), stats.getInt("connections")));
            });
        }
        long deadline = System.nanoTime() + within.toNanos();
        Count count = null;
        while (System.nanoTime() < deadline
                && (count == null || count.time() < sinceMillis || !wanted.test(count.connections()))) {
            count = dashboard.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        assertTrue(count != null && count.time() >= sinceMillis && wanted.test(count.connections()),
                "the dashboard reported " + count);
        return count.connections();
    }

    @Test
    void peerThatNeverAnswersOurCloseIsDroppedAndFreed() throws Exception {
        awaitConnections(System.currentTimeMillis(), n -> n == 1);
        try (RawTcp peer = RawTcp.upgrade(site().port(), site().endpointPath())) {
            assertTrue(peer.nextFrame(WAIT).text().startsWith("{\"type\":\"hello\""), "the server has the connection");
            Optional<Duration> cpuBefore = serverCpuTime();
            long start = System.currentTimeMillis();
            // Ten bad frames: the server closes with 1008 and waits for a close frame that never comes;
            // the peer reads nothing meanwhile (and so answers no ping either).
            for (int i = 0; i < 10; i++) {
                peer.write(RawTcp.frame(0x81, ("not json " + i).getBytes(StandardCharsets.UTF_8)));
            }
            awaitConnections(start, n -> n == 1);
            long freed = System.currentTimeMillis() - start;
            assertEquals(1008, peer.readCloseCode(Duration.ofSeconds(30)), "the close frame, then the server dropped the connection");
            long dropped = System.currentTimeMillis() - start;
            String cpu = cpuBefore.flatMap(before -> serverCpuTime().map(after -> after.minus(before).toMillis() + " ms"))
                    .orElse("(in this JVM)");
            System.out.println("figure: " + getClass().getSimpleName() + ": a peer that never answers our close: session freed"
                    + " within " + freed + " ms, TCP connection dropped within " + dropped + " ms, server CPU meanwhile " + cpu);
        }
    }

    @Test
    void connectionsPastThePerAddressCapAreRefusedWith1013() throws Exception {
        awaitConnections(System.currentTimeMillis(), n -> n == 1);
        List<RawClient> admitted = new ArrayList<>();
        try {
            // The dashboard's connection and these fill the cap: every test connection comes from 127.0.0.1.
            for (int i = 1; i < MAX_CONNECTIONS_PER_ADDRESS; i++) {
                RawClient client = RawClient.connect(site().webSocket());
                admitted.add(client);
                assertEquals("connect", client.connectNamespace(EchoApp.NAMESPACE, null).getString("type"));
            }
            try (RawClient refused = RawClient.connect(site().webSocket())) {
                assertEquals(1013, refused.awaitClose());
            }
            for (RawClient client : admitted) {
                assertEcho(client, "still served");
            }
            admitted.remove(0).close();
            awaitConnections(System.currentTimeMillis(), n -> n < MAX_CONNECTIONS_PER_ADDRESS);
            try (RawClient again = RawClient.connect(site().webSocket())) {
                assertEquals("connect", again.connectNamespace(EchoApp.NAMESPACE, null).getString("type"),
                        "a freed place is taken again");
            }
        } finally {
            admitted.forEach(RawClient::close);
        }
    }

    static void assertEcho(RawClient client, String text) {
        client.send("{\"type\":\"event\",\"nsp\":\"" + EchoApp.NAMESPACE + "\",\"event\":\"echo\",\"args\":[\""
                + text + "\"],\"ack\":1}");
        assertEquals(text, client.next("ack").getJsonArray("args").getString(0));
    }

    // ---- closes under load, dropped connections, churn ----

    /** A client's close frame, code 1000. */
    static final byte[] CLOSE_1000 = RawTcp.frame(0x88, new byte[] {0x03, (byte) 0xE8});

    /**
     * A frame of a container's WebSocket code that sends or closes: Tomcat's blocking sends (and
     * its wait for the send in flight), Jetty's and Tyrus's closes and blocking remotes.
     */
    private static final Pattern SEND_OR_CLOSE_FRAME = Pattern.compile("at org\\.(apache\\.tomcat\\.websocket"
            + "|eclipse\\.jetty\\.[\\w.]*websocket|glassfish\\.tyrus)\\.[\\w.$]+\\.\\w*(?i:send|close|block|acquire)\\w*\\(");

    /** A thread dump of the server's JVM, one thread per paragraph, its name first in quotes (as jcmd prints it). */
    String serverThreadDump() throws Exception {
        if (process().isPresent()) {
            return process().get().jcmd(List.of("Thread.print"));
        }
        StringBuilder dump = new StringBuilder();
        for (ThreadInfo thread : ManagementFactory.getThreadMXBean().dumpAllThreads(false, false)) {
            dump.append('"').append(thread.getThreadName()).append("\"\n");
            for (StackTraceElement frame : thread.getStackTrace()) {
                dump.append("\tat ").append(frame).append('\n');
            }
            dump.append('\n');
        }
        return dump.toString();
    }

    /** The container's threads (not Switchboard's own) inside a send or close in {@code dump}: name to stack. */
    static Map<String, String> containerThreadsInSends(String dump) {
        return containerThreadsIn(dump, SEND_OR_CLOSE_FRAME);
    }

    /** The container's threads (not Switchboard's own) with a frame matching {@code frame} in {@code dump}: name to stack. */
    static Map<String, String> containerThreadsIn(String dump, Pattern frame) {
        Map<String, String> threads = new HashMap<>();
        for (String thread : dump.split("\n\\s*\n")) {
            String stack = thread.strip();
            if (stack.startsWith("\"") && !stack.startsWith("\"switchboard-") && frame.matcher(stack).find()) {
                threads.put(stack.substring(1, stack.indexOf('"', 1)), stack);
            }
        }
        return threads;
    }

    /**
     * The container's threads held in a send or close: found there in two thread dumps in a row,
     * taken at least half a second apart (one in passing is a close being answered, not a wait).
     */
    private Map<String, String> containerThreadsHeldInSends() throws Exception {
        Map<String, String> first = containerThreadsInSends(serverThreadDump());
        Thread.sleep(500);
        Map<String, String> second = containerThreadsInSends(serverThreadDump());
        second.keySet().retainAll(first.keySet());
        return second;
    }

    /** Heap in use in the server's JVM after full collections, in bytes. */
    private long serverHeapAfterGc() throws Exception {
        if (process().isEmpty()) {
            return Heap.retained();
        }
        ServerProcess server = process().get();
        server.jcmd(List.of("GC.run"));
        server.jcmd(List.of("GC.run"));
        String info = server.jcmd(List.of("GC.heap_info"));
        Matcher used = Pattern.compile("used (\\d+)K").matcher(info);
        assertTrue(used.find(), info);
        return Long.parseLong(used.group(1)) * 1024;
    }

    private static byte[] textFrame(String singleQuotedJson) {
        return RawTcp.frame(0x81, singleQuotedJson.replace('\'', '"').getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Issue 12, item 6: a client floods 5000 events of 1 KB back to back, each asking for an
     * ack, while it reads what comes back (and answers pings). It is refused with {@code
     * rate_limited}, then closed with 1008, and learns both: a server that closes the connection
     * with input unread resets it, and the reset throws away what the server had not sent yet,
     * its close frame too.
     */
    @Test
    void aHardFloodIsToldItsErrorsAnd1008() throws Exception {
        try (RawTcp flooder = RawTcp.upgrade(site().port(), site().endpointPath())) {
            flooder.write(textFrame("{'type':'connect','nsp':'/echo'}"));
            assertEquals("connect", flooder.answer(WAIT));
            AtomicBoolean reading = new AtomicBoolean(true);
            CompletableFuture<Integer> sent = CompletableFuture.supplyAsync(() -> {
                int events = 0;
                try {
                    while (reading.get() && events < 5000) {
                        byte[] event = textFrame("{'type':'event','nsp':'/echo','event':'echo','args':['"
                                + "f".repeat(1000) + "'],'ack':" + ++events + "}");
                        synchronized (flooder) {
                            flooder.write(event);
                        }
                    }
                } catch (IOException e) {
                    // the server closed the connection
                }
                return events;
            });
            int rateLimited = 0;
            int code = -1;
            try {
                while (code == -1) {
                    RawTcp.Frame frame = flooder.nextFrame(Duration.ofSeconds(30));
                    if (frame.opcode() == RawTcp.Frame.CLOSE) {
                        code = frame.closeCode();
                    } else if (frame.text().equals("{\"type\":\"ping\"}")) {
                        synchronized (flooder) {
                            flooder.write(textFrame("{'type':'pong'}"));
                        }
                    } else if (frame.text().startsWith("{\"type\":\"error\"") && frame.text().contains("\"rate_limited\"")) {
                        rateLimited++;
                    }
                }
            } catch (EOFException | SocketException e) {
                // the connection ended without a close frame: code stays -1
            } finally {
                reading.set(false);
            }
            System.out.println("figure: " + deployment() + ": a flood of " + sent.get(WAIT.toSeconds(), TimeUnit.SECONDS)
                    + " events of 1 KB -> " + rateLimited + " rate_limited errors, then "
                    + (code == -1 ? "no close frame" : "close " + code));
            assertTrue(rateLimited > 0, "no rate_limited error arrived");
            assertEquals(1008, code, "the close frame after " + rateLimited + " rate_limited errors");
        }
    }

    /** Issue 13, item 5: a connection that drops (a reset, or the end of its stream) ends its socket with {@code transport close}. */
    @Test
    void aDroppedConnectionEndsWithTransportClose() throws Exception {
        ClientSocket watcher = connect("watcher");
        BlockingQueue<List<String>> gone = inbox(watcher, "gone");
        for (String user : List.of("reset", "end-of-stream")) {
            try (RawTcp peer = RawTcp.upgrade(site().port(), site().endpointPath())) {
                peer.write(textFrame("{'type':'connect','nsp':'/echo','auth':{'user':'" + user + "'}}"));
                assertEquals("connect", peer.answer(WAIT));
                if (user.equals("reset")) {
                    peer.abort();
                } else {
                    peer.endOutput();
                }
                List<String> ended = next(gone);
                while (!ended.get(0).equals(user)) {
                    ended = next(gone);
                }
                assertEquals(List.of(user, "transport close"), ended);
            }
        }
    }

    /** A member of a room that acks the flood's syncs, and the room's messages as it receives them. */
    record FloodReader(ClientSocket socket, BlockingQueue<List<String>> roomMessages) {
    }

    private FloodReader floodReader(String room) throws Exception {
        ClientSocket reader = connect("reader");
        reader.on("flood-sync", event -> event.ack());
        BlockingQueue<List<String>> roomMessages = inbox(reader, "room-message");
        ack(reader.emitWithAck("join", room));
        return new FloodReader(reader, roomMessages);
    }

    /**
     * Issue 13, item 1: a client closes while a send to it is stuck (it stopped reading, and the
     * server has more queued for it). Answering its close frame must not hold the container's
     * thread until that send completes; Tomcat's thread waited for it, one per such client, until
     * every request thread was waiting.
     */
    @Test
    void aClientClosingWhileASendToItIsStuckHoldsNoContainerThread() throws Exception {
        FloodReader reader = floodReader("stuck");
        try (RawTcp closer = rawMemberOf("stuck", "closer", reader.roomMessages())) {
            // 5 MiB: more than the kernel buffers for a peer that reads nothing (about 4 MiB), so
            // that a send to it is stuck, and less than that and the 4 MiB send queue.
            assertEquals(320, ack(reader.socket().timeout(Duration.ofSeconds(60)).emitWithAck("flood", "stuck", 320, 16 * 1024))
                    .get(0, Integer.class));
            closer.write(CLOSE_1000);
            Map<String, String> held = containerThreadsHeldInSends();
            assertTrue(held.isEmpty(), "container threads held in a send or close: " + held.values());
        }
    }

    /** The bytes the server holds queued or in flight for all its clients, as /metrics reports them. */
    private double sendQueueBytes() {
        return PrometheusText.parse(api().get("/metrics", KEY).body()).value("switchboard_send_queue_bytes", Map.of());
    }

    /** Waits up to {@code wait} for the server's send queue bytes to come down to {@code wanted}; returns the last figure. */
    private double awaitSendQueueBytes(double wanted, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        double queued = sendQueueBytes();
        while (queued > wanted && System.nanoTime() < deadline) {
            Thread.sleep(100);
            queued = sendQueueBytes();
        }
        return queued;
    }

    /**
     * Clients close while a write to them is stuck (they stopped reading with more queued for them
     * than the kernel buffers). The server cannot answer their close frames past that write and
     * drops the connections (Tomcat within its blocking send timeout). Every byte queued for them,
     * the write in flight included, goes back to the server-wide send budget once they are gone:
     * otherwise each such client leaves its bytes counted for good, and the budget, once full of
     * them, cuts off clients that merely fall behind. And the connection itself goes: the standalone
     * server and Jetty would otherwise hold it, its answer to the close frame stuck behind the
     * write, for as long as the client stays. Several clients in turn, as Tomcat's poller now and
     * then fails the write first.
     */
    @Test
    void clientsClosingWhileAWriteToThemIsStuckGiveTheirBytesBackToTheSendBudget() throws Exception {
        FloodReader reader = floodReader("budget");
        // Nothing in flight for anyone: the figure to come back to.
        double before = awaitSendQueueBytes(0, Duration.ofSeconds(2));
        int attempts = 5;
        StringBuilder stuck = new StringBuilder();
        for (int attempt = 0; attempt < attempts; attempt++) {
            try (RawTcp closer = rawMemberOf("budget", "closer-" + attempt, reader.roomMessages())) {
                // 5 MiB: more than the kernel buffers for a peer that reads nothing, less than the 4 MiB queue and them.
                assertEquals(320, ack(reader.socket().timeout(Duration.ofSeconds(60)).emitWithAck("flood", "budget", 320, 16 * 1024))
                        .get(0, Integer.class));
                stuck.append(' ').append((long) sendQueueBytes());
                closer.write(CLOSE_1000);
                long closed = System.nanoTime();
                while (closer.serverStillHolds() && System.nanoTime() - closed < Duration.ofSeconds(30).toNanos()) {
                    Thread.sleep(100);
                }
                assertFalse(closer.serverStillHolds(), "the server still holds the connection");
                stuck.append(" (dropped after ").append(Duration.ofNanos(System.nanoTime() - closed).toMillis()).append(" ms)");
            }
        }
        double after = awaitSendQueueBytes(before, Duration.ofSeconds(10));
        System.out.println("figure: " + deployment() + ": send queue bytes before " + before + ", while stuck" + stuck
                + ", 10 s after " + attempts + " connections were dropped " + after);
        assertEquals(before, after, "bytes left counted in the send budget by the dropped connections");
    }

    private static final int CHURN_MEMBERS = 12;
    private static final int CHURN_ROOMS = 3;
    private static final Duration CHURN = Duration.ofSeconds(5);
    private static final Duration CHURN_TICK = Duration.ofMillis(250);
    private static final Duration PUBLISH_EVERY = Duration.ofMillis(20);

    /** A raw client on /echo, in a churn room when {@code room} is not null; it reads and drops what it receives. */
    private RawClient churnClient(String room) {
        RawClient client = RawClient.connect(site().webSocket());
        assertEquals("connect", client.connectNamespace(EchoApp.NAMESPACE, null).getString("type"), "admitted");
        if (room != null) {
            client.sendJson("{'type':'event','nsp':'/echo','event':'join','args':['" + room + "'],'ack':1}");
            assertEquals(room, client.next("ack").getJsonArray("args").getString(0));
        }
        client.discardFrames();
        return client;
    }

    /**
     * Issue 13: clients in rooms come and go while publishers send to the rooms; every quarter
     * second one leaves, by a reset and by a clean close in turn, and a new one joins. Meanwhile
     * no container thread is held in a send, every newcomer is admitted (under the per-address
     * cap of 20: a count that lagged would refuse them), and afterwards the server counts the
     * connections it really has within a second and its heap is back where it was.
     */
    @Test
    void churnKeepsTheCountTrueHoldsNoContainerThreadAndLeavesNoMemoryBehind() throws Exception {
        awaitConnections(System.currentTimeMillis(), n -> n == 1);
        Set<InetSocketAddress> before = RawTcp.peersOf(site().port());
        long heapBefore = serverHeapAfterGc();
        List<RawClient> members = new ArrayList<>();
        for (int i = 0; i < CHURN_MEMBERS; i++) {
            members.add(churnClient("churn-" + i % CHURN_ROOMS));
        }
        List<RawClient> publishers = List.of(churnClient(null), churnClient(null));
        AtomicBoolean churning = new AtomicBoolean(true);
        ExecutorService background = Executors.newCachedThreadPool();
        try {
            for (RawClient publisher : publishers) {
                background.submit(() -> {
                    for (int i = 0; churning.get(); i++) {
                        publisher.sendJson("{'type':'event','nsp':'/echo','event':'to-room','args':['churn-"
                                + i % CHURN_ROOMS + "','" + "p".repeat(200) + "']}");
                        Thread.sleep(PUBLISH_EVERY.toMillis());
                    }
                    return null;
                });
            }
            Future<Map<String, String>> held = background.submit(() -> {
                Map<String, String> seen = new HashMap<>();
                Map<String, String> previous = Map.of();
                while (churning.get()) {
                    Map<String, String> now = containerThreadsInSends(serverThreadDump());
                    for (Map.Entry<String, String> thread : now.entrySet()) {
                        if (previous.containsKey(thread.getKey())) {
                            seen.put(thread.getKey(), thread.getValue());
                        }
                    }
                    previous = now;
                    Thread.sleep(500);
                }
                return seen;
            });
            int left = 0;
            long end = System.nanoTime() + CHURN.toNanos();
            while (System.nanoTime() < end) {
                RawClient leaving = members.remove(0);
                if (left++ % 2 == 0) {
                    leaving.abort();
                } else {
                    leaving.leave();
                }
                members.add(churnClient("churn-" + left % CHURN_ROOMS));
                Thread.sleep(CHURN_TICK.toMillis());
            }
            churning.set(false);
            long stopped = System.currentTimeMillis();
            Map<String, String> heldThreads = held.get(60, TimeUnit.SECONDS);
            int counted = awaitConnections(stopped, n -> n - 1 == newPeers(before).size(), Duration.ofMillis(2500));
            System.out.println("figure: " + deployment() + ": churn, " + left + " left and as many joined in "
                    + CHURN.toSeconds() + " s: the server counts " + counted + " connections, the kernel holds "
                    + (newPeers(before).size() + 1) + "; container threads held in sends: " + heldThreads.keySet());
            assertTrue(heldThreads.isEmpty(), "container threads held in a send or close: " + heldThreads.values());
        } finally {
            churning.set(false);
            background.shutdownNow();
            members.forEach(RawClient::close);
            publishers.forEach(RawClient::close);
        }
        awaitConnections(System.currentTimeMillis(), n -> n == 1);
        long heapAfter = serverHeapAfterGc();
        System.out.println("figure: " + deployment() + ": churn, server heap after the window "
                + Heap.change(heapAfter - heapBefore) + " from before it");
        assertTrue(heapAfter - heapBefore < 8 << 20, "heap grew by " + Heap.change(heapAfter - heapBefore));
    }

    /** The server's established connections that were not there in {@code before}. */
    private Set<InetSocketAddress> newPeers(Set<InetSocketAddress> before) {
        try {
            Set<InetSocketAddress> peers = RawTcp.peersOf(site().port());
            peers.removeAll(before);
            return peers;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- the HTTP API and /metrics (docs/DEPLOY.md; docs/RELIABILITY.md, the HTTP API's rows) ----

    private ApiClient api() {
        return new ApiClient(site().http(""));
    }

    @Test
    void anApiEmitReachesExactlyItsTargetsAndAnAckEmitCollectsOneAnswerPerRecipient() throws Exception {
        ClientSocket ann = connect("ann");
        ClientSocket bob = connect("bob");
        ClientSocket cat = connect(null);
        BlockingQueue<List<String>> annNews = inbox(ann, "news");
        BlockingQueue<List<String>> bobNews = inbox(bob, "news");
        BlockingQueue<List<String>> catNews = inbox(cat, "news");
        ack(ann.emitWithAck("join", "red"));
        ack(cat.emitWithAck("join", "red"));
        ApiClient api = api();
        String echo = "\"namespace\":\"" + EchoApp.NAMESPACE + "\"";

        assertTrue(api.emit(KEY, "{" + echo + ",\"event\":\"news\",\"args\":[\"red, not cat\"],\"rooms\":[\"red\"],"
                + "\"except\":[\"" + cat.id() + "\"]}").getString("offset").length() > 0);
        api.emit(KEY, "{" + echo + ",\"event\":\"news\",\"args\":[\"to bob\"],\"user\":\"bob\"}");
        api.emit(API_KEYS.get(1), "{" + echo + ",\"event\":\"news\",\"args\":[\"end\"]}");
        // One caller, one after the other: each socket gets its events in order, a stray one would come between.
        assertEquals(List.of("red, not cat"), next(annNews));
        assertEquals(List.of("end"), next(annNews));
        assertEquals(List.of("to bob"), next(bobNews));
        assertEquals(List.of("end"), next(bobNews));
        assertEquals(List.of("end"), next(catNews));

        try (RawClient silent = RawClient.connect(site().webSocket())) {
            String silentId = silent.connectNamespace(EchoApp.NAMESPACE, null).getString("id");
            for (ClientSocket voter : List.of(ann, bob)) {
                voter.on("poll", event -> event.ack("yes from " + voter.id()));
            }
            assertEquals(200, api.post("/api/sockets/join", KEY, "{" + echo + ",\"rooms\":[\"red\"],\"user\":\"bob\","
                    + "\"socket\":\"" + silentId + "\",\"join\":[\"voters\"]}").statusCode());
            assertEquals(4, ApiClient.json(api.get("/api/sockets?namespace=/echo&room=voters", KEY))
                    .getJsonArray("sockets").size(), "ann and cat in red, bob, the silent one");
            assertEquals(200, api.post("/api/sockets/leave", KEY, "{" + echo + ",\"socket\":\"" + cat.id() + "\","
                    + "\"leave\":[\"voters\"]}").statusCode());

            JsonObject partial = api.emit(KEY, "{" + echo + ",\"event\":\"poll\",\"rooms\":[\"voters\"],"
                    + "\"ack\":{\"timeoutMs\":2000}}");
            assertFalse(partial.getBoolean("complete"), partial.toString());
            assertEquals(Set.of("[\"yes from " + ann.id() + "\"]", "[\"yes from " + bob.id() + "\"]"),
                    answers(partial));
            JsonObject complete = api.emit(KEY, "{" + echo + ",\"event\":\"poll\",\"rooms\":[\"voters\"],"
                    + "\"except\":[\"" + silentId + "\"],\"ack\":{\"timeoutMs\":10000}}");
            assertTrue(complete.getBoolean("complete"), complete.toString());
            assertEquals(answers(partial), answers(complete));
        }
    }

    private static Set<String> answers(JsonObject emitted) {
        Set<String> answers = new HashSet<>();
        emitted.getJsonArray("answers").forEach(answer -> answers.add(answer.toString()));
        return answers;
    }

    @Test
    void badApiRequestsGetTheirStatusNameTheFieldAndReachNoSocket() throws Exception {
        ClientSocket watcher = connect("ann");
        BlockingQueue<List<String>> seen = inbox(watcher, "news");
        ApiClient api = api();
        String emit = "/api/emit";
        String echo = "\"namespace\":\"" + EchoApp.NAMESPACE + "\"";
        ApiClient.assertRefused(401, null, api.post(emit, null, "{" + echo + ",\"event\":\"news\"}"));
        ApiClient.assertRefused(401, null, api.post(emit, "not-a-key", "{" + echo + ",\"event\":\"news\"}"));
        ApiClient.assertRefused(401, null, api.get("/metrics", null));
        ApiClient.assertRefused(400, null, api.post(emit, KEY, "{\"event\":"));
        ApiClient.assertRefused(400, "colour", api.post(emit, KEY, "{" + echo + ",\"event\":\"news\",\"colour\":1}"));
        ApiClient.assertRefused(400, "rooms", api.post(emit, KEY, "{" + echo + ",\"event\":\"news\",\"rooms\":\"red\"}"));
        ApiClient.assertRefused(400, "ack.timeoutMs", api.post(emit, KEY, "{" + echo + ",\"event\":\"news\",\"ack\":{\"timeoutMs\":0}}"));
        for (String reserved : ReservedEvents.NAMES) {
            ApiClient.assertRefused(400, "event", api.post(emit, KEY, "{" + echo + ",\"event\":\"" + reserved + "\"}"));
        }
        ApiClient.assertRefused(413, null, api.post(emit, KEY, "{" + echo + ",\"event\":\"news\",\"args\":[\""
                + "x".repeat(1 << 20) + "\"]}"));
        ApiClient.assertRefused(404, "namespace", api.post(emit, KEY, "{\"namespace\":\"/nowhere\",\"event\":\"news\"}"));
        ApiClient.assertRefused(404, null, api.get("/api/nothing", KEY));
        HttpResponse<String> wrongMethod = api.get(emit, KEY);
        ApiClient.assertRefused(405, null, wrongMethod);
        assertEquals("POST", wrongMethod.headers().firstValue("Allow").orElse(""));

        String flood = API_KEYS.get(2);
        int served = 0;
        HttpResponse<String> answer = api.get("/api/namespaces", flood);
        while (answer.statusCode() == 200 && served < 2000) {
            served++;
            answer = api.get("/api/namespaces", flood);
        }
        ApiClient.assertRefused(429, null, answer);
        System.out.println("figure: " + deployment() + ": HTTP API, " + served + " requests of one key before 429");
        assertEquals(200, api.get("/api/namespaces", KEY).statusCode(), "another key is served meanwhile");

        api.emit(KEY, "{" + echo + ",\"event\":\"news\",\"args\":[\"end\"],\"user\":\"ann\"}");
        assertEquals(List.of("end"), next(seen), "no refused request reached the socket");
    }

    @Test
    void metricsAreValidPrometheusTextAndMoveWithTraffic() throws Exception {
        ApiClient api = api();
        HttpResponse<String> first = api.get("/metrics", KEY);
        assertEquals(200, first.statusCode(), first.body());
        assertTrue(first.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"), first.headers().toString());
        PrometheusText before = PrometheusText.parse(first.body());
        assertTrue(before.hasFamily("jvm_memory_used_bytes") && before.hasFamily("jvm_threads_live_threads"));

        ClientSocket socket = connect(null);
        ack(socket.emitWithAck("echo", "counted"));
        PrometheusText after = PrometheusText.parse(api.get("/metrics", KEY).body());
        assertTrue(after.value("switchboard_sockets", Map.of("namespace", EchoApp.NAMESPACE)) >= 1);
        for (String counter : List.of("switchboard_received_events_total", "switchboard_received_bytes_total",
                "switchboard_sent_bytes_total", "switchboard_delivered_frames_total")) {
            assertTrue(after.value(counter, Map.of()) > before.value(counter, Map.of()), counter);
        }
    }
}
