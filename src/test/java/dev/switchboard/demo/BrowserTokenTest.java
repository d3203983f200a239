package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.auth.JwtAuth;
import dev.switchboard.auth.TokenVerifier;
import dev.switchboard.client.ClientOptions;
import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.server.Namespace;
import dev.switchboard.server.Socket;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.Tokens;
import dev.switchboard.testing.VirtualTime;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code webapp/switchboard.js} with a token provider and a presence set, in a real browser,
 * against a server with token authentication and presence on virtual time. The page's provider
 * hands out the tokens the test queues in {@code window.tokens}.
 */
@BrowserTest
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class BrowserTokenTest {
    private static final String CONNECT = """
            (0, eval)(await (await fetch('/switchboard.js')).text());   // global, as a <script> would
            window.seen = [];
            window.tokens = [arguments[0]];
            window.asked = 0;
            const socket = switchboard.connect({ forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 200,
                token: () => { asked++; return new Promise((resolve) => setTimeout(() => resolve(tokens[0]), 10)); } });
            socket.on('connect', () => seen.push('connect ' + socket.id + (socket.recovered ? ' recovered' : '')));
            socket.on('disconnect', (reason) => seen.push('disconnect ' + reason));
            socket.presence('lobby', (room) => seen.push('presence ' + room.members
                .map((user) => user.userId + (user.away ? ' (away)' : '')).join(', ')));
            window.socket = socket;
            """;

    private final VirtualTime time = new VirtualTime();
    private final Tokens tokens = new Tokens(time.clock());
    private final BlockingQueue<Socket> connected = new LinkedBlockingQueue<>();
    private TestServer server;
    private CuttableProxy network;
    private Chromium browser;
    private String tab;

    /** The server, the network the page's WebSocket goes through, and the browser: one test, one of each. */
    @BeforeEach
    void start() throws Exception {
        TokenVerifier verifier = TokenVerifier.builder().hmacSecret(Tokens.SECRET)
                .issuer(Tokens.ISSUER).audience(Tokens.AUDIENCE).build();
        // Pings would need answers within no time at all: virtual time moves in steps.
        server = TestServer.start(TestServer.options().clock(time.clock()).scheduler(time)
                .pingInterval(Duration.ofHours(1)).build(), sb -> {
                    Namespace root = sb.root();
                    JwtAuth.install(root, verifier, Duration.ofSeconds(30));
                    root.trackPresence("lobby"::equals);
                    root.onConnection(socket -> {
                        socket.join("lobby");
                        connected.add(socket);
                    });
                });
        network = new CuttableProxy(server.port());
        browser = Chromium.start();
        tab = browser.open(URI.create("http://127.0.0.1:" + network.port() + "/switchboard.js"));
    }

    @AfterEach
    void stop() throws Exception {
        browser.close();
        network.close();
        server.close();
    }

    @Test
    void thePageKeepsItsConnectionWithFreshTokensAndSeesWhoIsThere() throws Exception {
        browser.script(tab, CONNECT, tokens.hmac("ana"));
        Socket ana = connected.poll(10, TimeUnit.SECONDS);
        assertEquals("ana", ana.userId());
        awaitSeen("presence ana");

        try (SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(),
                ClientOptions.builder().autoConnect(false).build())) {
            // Pedro's tokens outlast the test: only the page's run out.
            String pedrosToken = tokens.hmac("pedro", claims -> claims.expirationTime(Date.from(time.clock().instant().plus(Duration.ofDays(1)))));
            ClientSocket pedro = client.socket().tokenProvider(() -> CompletableFuture.completedFuture(pedrosToken));
            pedro.connect();
            pedro.whenConnected().get(10, TimeUnit.SECONDS);
            awaitSeen("presence ana, pedro");

            Instant firstExpiry = JwtAuth.claims(ana).expiresAt();
            String longer = tokens.hmac("ana", claims -> claims.expirationTime(Date.from(firstExpiry.plus(Tokens.LIFETIME))));
            browser.script(tab, "tokens[0] = arguments[0];", longer);
            time.advance(Tokens.LIFETIME.minusSeconds(30));
            browser.waitUntil(tab, "a fresh token at the server", () -> JwtAuth.claims(ana).expiresAt(),
                    driver -> JwtAuth.claims(ana).expiresAt().isAfter(firstExpiry));
            time.advance(Duration.ofSeconds(30));
            assertTrue(ana.connected(), "past the first token's expiry");

            network.refuse(true);
            network.cut();
            awaitSeen("disconnect transport close");
            browser.script(tab, "tokens[0] = arguments[0];", tokens.hmac("ana", claims -> claims.jwtID("after the drop")));
            network.refuse(false);
            awaitSeen("connect " + ana.id() + " recovered");
            Socket back = connected.poll(10, TimeUnit.SECONDS);
            if ("pedro".equals(back.userId())) {
                back = connected.poll(10, TimeUnit.SECONDS);
            }
            assertEquals(ana.id(), back.id());
            assertEquals("after the drop", tokenId(back), "the reconnection sent the provider's newest token");
            awaitSeen("presence ana, pedro");

            // The provider keeps handing out that token: at expiry the server ends the socket.
            time.advance(Tokens.LIFETIME);
            assertEquals("disconnect token expired", awaitSeen("disconnect token"));
            browser.waitUntil(tab, "ana gone for pedro", () -> pedro.presence("lobby").members(),
                    driver -> pedro.presence("lobby").member("ana") == null);
        }
        assertTrue(((Number) browser.script(tab, "return asked;")).intValue() >= 3,
                "asked at connect, refresh and reconnection");
    }

    /**
     * A provider whose promise never settles (a login service that never answers) holds the
     * connect for no longer than the connect timeout, as in the Java client: a connect error, and
     * a token it hands over late goes nowhere.
     */
    @Test
    void aProviderThatNeverAnswersIsAConnectErrorAfterTheTimeout() throws Exception {
        browser.script(tab, """
                (0, eval)(await (await fetch('/switchboard.js')).text());
                window.seen = [];
                window.asked = 0;
                const socket = switchboard.connect({ forceNew: true, timeout: 1000, token: () => ++asked === 1
                    ? new Promise((resolve) => { window.late = resolve; }) : arguments[0] });
                socket.on('connect', () => seen.push('connect'));
                socket.on('connect_error', (err) => seen.push('connect_error ' + err.message));
                window.socket = socket;
                """, tokens.hmac("ana"));
        assertEquals("connect_error token provider did not answer within 1000 ms", awaitSeen("connect_error"));

        browser.script(tab, "late(arguments[0]); socket.connect();", tokens.hmac("bob"));
        awaitSeen("connect");
        assertEquals("ana", connected.poll(10, TimeUnit.SECONDS).userId());
        assertEquals(2, ((Number) browser.script(tab, "return asked;")).intValue(), "asked again at connect()");
        // A connect with the late token would reach the server within a round trip.
        assertEquals(null, connected.poll(2, TimeUnit.SECONDS), "the late token connected nobody");
    }

    /**
     * As in the Java client: at a reconnection (a phone waking up) a provider that answers too
     * late once must not cost the page its session. The timeout is a connect error the socket
     * retries after the reconnection backoff.
     */
    @Test
    void aProviderTooSlowAtAReconnectionIsAskedAgainAndTheSessionRecovers() throws Exception {
        browser.script(tab, """
                (0, eval)(await (await fetch('/switchboard.js')).text());
                window.seen = [];
                window.asked = 0;
                const socket = switchboard.connect({ forceNew: true, timeout: 1000, reconnectionDelay: 100,
                    reconnectionDelayMax: 200, token: () => ++asked === 2 ? new Promise(() => {}) : arguments[0] });
                socket.on('connect', () => seen.push('connect ' + socket.id + (socket.recovered ? ' recovered' : '')));
                socket.on('connect_error', (err) => seen.push('connect_error ' + err.message));
                window.socket = socket;
                """, tokens.hmac("ana"));
        Socket ana = connected.poll(10, TimeUnit.SECONDS);
        awaitSeen("connect " + ana.id());

        network.cut();
        assertEquals("connect_error token provider did not answer within 1000 ms", awaitSeen("connect_error token"));
        awaitSeen("connect " + ana.id() + " recovered");
        assertEquals(3, ((Number) browser.script(tab, "return asked;")).intValue(),
                "asked at connect, at the reconnection, and once more after its timeout");
    }

    private static String tokenId(Socket socket) {
        String token = socket.handshake().auth().as(JwtAuth.Credentials.class).token();
        try {
            return com.nimbusds.jwt.JWTParser.parse(token).getJWTClaimsSet().getJWTID();
        } catch (java.text.ParseException e) {
            throw new AssertionError(e);
        }
    }

    /** The last line the page saw that starts with {@code prefix}, once there is one. */
    @SuppressWarnings("unchecked")
    private String awaitSeen(String prefix) {
        return browser.waitUntil(tab, "'" + prefix + "' in what the page saw", () -> browser.script(tab, "return seen;"),
                driver -> ((List<String>) browser.script(tab, "return seen;")).stream()
                        .filter(line -> line.startsWith(prefix)).reduce((a, b) -> b).orElse(null));
    }
}
