package dev.switchboard.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.PlainJWT;
import dev.switchboard.client.ClientOptions;
import dev.switchboard.client.ClientEvent;
import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.ConnectError;
import dev.switchboard.client.ConnectErrorException;
import dev.switchboard.client.SwitchboardClient;
import dev.switchboard.server.Namespace;
import dev.switchboard.server.Socket;
import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.CuttableProxy;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.Tokens;
import dev.switchboard.testing.VirtualTime;
import jakarta.json.JsonObject;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Token authentication through real sockets, on virtual time: tokens valid and refused at connect,
 * refresh before expiry, the end at expiry, recovery and reconnection with the provider's tokens.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class JwtAuthTest {
    private static final Duration LIFETIME = Tokens.LIFETIME;
    private static final RSAKey RSA = generate(() -> new RSAKeyGenerator(2048).keyID("rsa-1").generate());
    private static final ECKey EC = generate(() -> new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate());

    private final VirtualTime time = new VirtualTime();
    private final Tokens tokens = new Tokens(time.clock());
    private final BlockingQueue<Socket> connected = new LinkedBlockingQueue<>();
    private TestServer server;

    @BeforeEach
    void start() throws JOSEException {
        server = start(TestServer.options());
    }

    private TestServer start(SwitchboardOptions.Builder options) throws JOSEException {
        String pem = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(EC.toECPublicKey().getEncoded()) + "\n-----END PUBLIC KEY-----\n";
        TokenVerifier verifier = TokenVerifier.builder()
                .hmacSecret(Tokens.SECRET)
                .jwks(new JWKSet(RSA.toPublicJWK()).toString())
                .publicKeyPem(pem, "ec-1")
                .issuer(Tokens.ISSUER).audience(Tokens.AUDIENCE)
                .build();
        // Pings would need answers within no time at all: virtual time moves in steps.
        return TestServer.start(options.clock(time.clock()).scheduler(time).pingInterval(Duration.ofHours(1)).build(), sb -> {
            Namespace root = sb.root();
            JwtAuth.install(root, verifier, Duration.ofSeconds(30));
            root.onConnection(connected::add);
        });
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private interface KeyMaker<K> {
        K make() throws JOSEException;
    }

    private static <K> K generate(KeyMaker<K> maker) {
        try {
            return maker.make();
        } catch (JOSEException e) {
            throw new AssertionError(e);
        }
    }

    // ---- at connect ----

    @Test
    void validTokensOfEveryKeyTypeAdmitTheirSubject() throws Exception {
        for (String token : List.of(tokens.hmac("ana"), rsa("ana"), ec("ana"))) {
            try (RawClient raw = server.raw()) {
                raw.next("hello");
                JsonObject answer = raw.connectNamespace("/", credentials(token));
                assertEquals("connect", answer.getString("type"), answer.toString());
                Socket socket = connected.poll(10, TimeUnit.SECONDS);
                assertEquals("ana", socket.userId());
                assertEquals(List.of("general"), List.copyOf(JwtAuth.claims(socket).channels()));
                assertEquals(Map.of("color", "teal"), JwtAuth.claims(socket).info());
            }
        }
    }

    @Test
    void badTokensGetAStableCodeAndNothingMore() throws Exception {
        Instant now = time.clock().instant();
        assertRefused("token_expired", tokens.hmac("ana", b -> b.expirationTime(Date.from(now.minusSeconds(1)))));
        assertRefused("token_invalid", tokens.hmac("ana", b -> b.notBeforeTime(Date.from(now.plusSeconds(60)))));
        assertRefused("token_audience", tokens.hmac("ana", b -> b.audience("billing")));
        assertRefused("token_invalid", tokens.hmac("ana", b -> b.issuer("https://evil.example.com")));
        assertRefused("token_invalid", Tokens.sign(new MACSigner("another secret, also thirty-two bytes long"), JWSAlgorithm.HS256,
                null, tokens.claims("ana").build()));
        assertRefused("token_invalid", new PlainJWT(tokens.claims("ana").build()).serialize());
        // The RSA public key used as an HMAC secret (algorithm confusion).
        assertRefused("token_invalid", Tokens.sign(new MACSigner(RSA.toPublicJWK().toRSAPublicKey().getEncoded()),
                JWSAlgorithm.HS256, "rsa-1", tokens.claims("ana").build()));
        assertRefused("token_invalid", "not.a.jwt");
        try (RawClient raw = server.raw()) {
            raw.next("hello");
            assertEquals("token_invalid", raw.connectNamespace("/", "{\"name\":\"ana\"}")
                    .getJsonObject("data").getString("code"));
        }
    }

    private void assertRefused(String code, String token) {
        try (RawClient raw = server.raw()) {
            raw.next("hello");
            JsonObject answer = raw.connectNamespace("/", credentials(token));
            assertEquals("connect_error", answer.getString("type"));
            assertEquals("unauthorized", answer.getString("message"));
            assertEquals(Map.of("code", code), Map.copyOf(answer.getJsonObject("data").entrySet().stream()
                    .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey,
                            e -> ((jakarta.json.JsonString) e.getValue()).getString()))), "for " + token);
        }
    }

    // ---- for the life of the connection ----

    @Test
    void aFreshTokenBeforeExpiryKeepsTheConnection() throws Exception {
        AtomicInteger issued = new AtomicInteger();
        try (SwitchboardClient client = client(server.webSocketUri())) {
            ClientSocket socket = client.socket().tokenProvider(() -> {
                issued.incrementAndGet();
                return CompletableFuture.completedFuture(tokens.hmac("ana"));
            });
            BlockingQueue<String> disconnects = new LinkedBlockingQueue<>();
            socket.onDisconnect(disconnects::add);
            socket.connect();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            Socket onServer = connected.poll(10, TimeUnit.SECONDS);
            Instant firstExpiry = JwtAuth.claims(onServer).expiresAt();

            time.advance(LIFETIME.minusSeconds(30));
            Await.until("the token refreshed", () -> JwtAuth.claims(onServer).expiresAt().isAfter(firstExpiry));
            time.advance(Duration.ofSeconds(31));
            assertTrue(onServer.connected(), "past the first token's expiry on the second");
            assertEquals(2, issued.get());
            time.advance(LIFETIME.minusSeconds(61));
            Await.until("asked again", () -> issued.get() == 3);
            assertTrue(socket.connected());
            assertEquals(null, disconnects.poll());
        }
    }

    /**
     * An application that sets the provider again (a login that replaces a provider set at
     * start-up) is asked by the new one alone: for connects and for refreshes.
     */
    @Test
    void aProviderSetAgainIsTheOneAskedForFreshTokens() throws Exception {
        String startUpToken = tokens.hmac("ana");
        List<String> asked = new CopyOnWriteArrayList<>();
        try (SwitchboardClient client = client(server.webSocketUri())) {
            ClientSocket socket = client.socket()
                    .tokenProvider(() -> {
                        asked.add("start-up");
                        return CompletableFuture.completedFuture(startUpToken);
                    })
                    .tokenProvider(() -> {
                        asked.add("login");
                        return CompletableFuture.completedFuture(tokens.hmac("ana"));
                    });
            BlockingQueue<String> disconnects = new LinkedBlockingQueue<>();
            socket.onDisconnect(disconnects::add);
            socket.connect();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            Socket onServer = connected.poll(10, TimeUnit.SECONDS);
            Instant firstExpiry = JwtAuth.claims(onServer).expiresAt();

            time.advance(LIFETIME.minusSeconds(30));
            // Before, the first provider still answered every refresh, first: the server took its
            // token, which expires no later, and ended the socket with "token expired" at the first expiry.
            Await.until("the token refreshed", () -> JwtAuth.claims(onServer).expiresAt().isAfter(firstExpiry));
            time.advance(Duration.ofSeconds(31));
            assertEquals(null, disconnects.poll(1, TimeUnit.SECONDS));
            assertTrue(onServer.connected(), "past the first token's expiry on the login's fresh one");
            assertEquals(List.of("login", "login"), asked);
        }
    }

    @Test
    void anAskForAFreshTokenThatFailsIsMadeAgainBeforeTheEnd() throws Exception {
        server.close();
        // Timers' callbacks on the thread that advances time: the failed ask has set its retry
        // when advance returns, before the test moves time on.
        server = start(TestServer.options().maxPendingAcks(2).callbackExecutor(Runnable::run));
        try (SwitchboardClient client = client(server.webSocketUri())) {
            ClientSocket socket = client.socket().tokenProvider(() -> CompletableFuture.completedFuture(tokens.hmac("ana")));
            List<ClientEvent> unanswered = new CopyOnWriteArrayList<>();
            socket.on("question", unanswered::add);
            socket.connect();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            Socket onServer = connected.poll(10, TimeUnit.SECONDS);
            Instant firstExpiry = JwtAuth.claims(onServer).expiresAt();
            // The client owes the server all the acks it may: the first ask for a token fails.
            List<CompletableFuture<?>> questions = List.of(onServer.timeout(Duration.ofHours(2)).emitWithAck("question"),
                    onServer.timeout(Duration.ofHours(2)).emitWithAck("question"));
            Await.until("both questions arrived", () -> unanswered.size() == 2);
            time.advance(LIFETIME.minusSeconds(30));
            unanswered.forEach(question -> question.ack("answer"));
            CompletableFuture.allOf(questions.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

            time.advance(Duration.ofSeconds(15));
            Await.until("the token refreshed", () -> JwtAuth.claims(onServer).expiresAt().isAfter(firstExpiry));
            time.advance(Duration.ofSeconds(16));
            assertTrue(onServer.connected(), "past the first token's expiry on the second");
        }
    }

    @Test
    void noFreshTokenEndsTheSocketWithTokenExpired() throws Exception {
        String onlyToken = tokens.hmac("ana");
        try (SwitchboardClient client = client(server.webSocketUri())) {
            // The provider keeps handing out its one token: replayed, it no longer helps at expiry.
            ClientSocket socket = client.socket().tokenProvider(() -> CompletableFuture.completedFuture(onlyToken));
            BlockingQueue<String> disconnects = new LinkedBlockingQueue<>();
            socket.onDisconnect(disconnects::add);
            socket.connect();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            Socket onServer = connected.poll(10, TimeUnit.SECONDS);
            time.advance(LIFETIME.minusSeconds(30));
            time.advance(Duration.ofSeconds(29));
            assertTrue(onServer.connected(), "until its expiry");
            time.advance(Duration.ofSeconds(1));
            assertEquals("token expired", disconnects.poll(10, TimeUnit.SECONDS));
            assertTrue(!socket.connected());
            try (RawClient raw = server.raw()) {
                raw.next("hello");
                assertEquals("token_expired", raw.connectNamespace("/", credentials(onlyToken))
                        .getJsonObject("data").getString("code"), "the expired token replayed");
            }
        }
    }

    @Test
    void reconnectionRecoversWithTheProvidersNewTokenAndAnExpiredOneIsRefused() throws Exception {
        AtomicInteger issued = new AtomicInteger();
        try (CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = client(network.webSocketUri())) {
            BlockingQueue<String> queued = new LinkedBlockingQueue<>();
            ClientSocket socket = client.socket().tokenProvider(() -> {
                int n = issued.incrementAndGet();
                return CompletableFuture.completedFuture(queued.isEmpty()
                        ? tokens.hmac("ana", b -> b.claim("info", Map.of("n", n))) : queued.poll());
            });
            BlockingQueue<ConnectError> refusals = new LinkedBlockingQueue<>();
            socket.onConnectError(refusals::add);
            socket.connect();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            connected.poll(10, TimeUnit.SECONDS);
            String id = socket.id();

            network.cut();
            Socket back = connected.poll(10, TimeUnit.SECONDS);
            assertEquals(id, back.id());
            assertTrue(back.recovered());
            assertEquals(Map.of("n", 2L), Map.of("n", ((Number) JwtAuth.claims(back).info().get("n")).longValue()),
                    "the reconnection's token is the provider's second");

            Await.until("the client recovered", () -> socket.connected() && socket.recovered());
            String expired = tokens.hmac("ana", b -> b.expirationTime(Date.from(time.clock().instant().minusSeconds(1))));
            queued.add(expired);
            network.cut();
            ConnectError refused = refusals.poll(10, TimeUnit.SECONDS);
            assertEquals("unauthorized", refused.message());
            assertEquals("{\"code\":\"token_expired\"}", refused.data().text());
            Await.until("the session ended", () -> server.switchboard().root().detachedSessions().isEmpty());
            assertEquals(1, server.switchboard().metrics().recoveries());
            assertEquals(1, server.switchboard().metrics().failedRecoveries(), "the refused recovery");
        }
    }

    /**
     * The server asks for a fresh token while the ask cannot reach the client (the network holds
     * it, then drops). The client recovers, and the ask is replayed without its ack: nothing to
     * answer. The Java client must not fetch a token for it (a call to the login service whose
     * token goes nowhere), as the browser client does not.
     */
    @Test
    void aRefreshReplayedAtRecoveryFetchesNoToken() throws Exception {
        AtomicInteger issued = new AtomicInteger();
        try (CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = client(network.webSocketUri())) {
            ClientSocket socket = client.socket().tokenProvider(() -> {
                issued.incrementAndGet();
                return CompletableFuture.completedFuture(
                        tokens.hmac("ana", b -> b.expirationTime(Date.from(time.clock().instant().plusSeconds(60)))));
            });
            List<String> events = new CopyOnWriteArrayList<>();
            socket.onAny((event, args) -> events.add(event));
            socket.connect();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            List<String> sent = new CopyOnWriteArrayList<>();
            connected.poll(10, TimeUnit.SECONDS).onAnyOutgoing((event, args) -> sent.add(event));

            network.hold();
            time.advance(Duration.ofSeconds(31));   // the ask, 30 s before the expiry, is logged and held
            // Asked on a callback thread: not cut before it went out, or there is no ask to replay.
            Await.until("the ask went out", () -> sent.contains("refresh"));
            network.cut();
            network.release();
            Socket back = connected.poll(10, TimeUnit.SECONDS);
            assertTrue(back.recovered());
            back.emit("after");   // after the replay
            Await.until("the event after the replay", () -> events.contains("after"));
            assertEquals(List.of("refresh", "after"), events, "the ask was replayed");
            assertEquals(2, issued.get(), "a token for each connect, none for the replayed ask");
        }
    }

    @Test
    void aProviderThatFailsIsAConnectErrorAndTheSocketWaitsForConnect() throws Exception {
        try (SwitchboardClient client = client(server.webSocketUri())) {
            AtomicInteger calls = new AtomicInteger();
            ClientSocket socket = client.socket().tokenProvider(() -> calls.incrementAndGet() == 1
                    ? CompletableFuture.failedFuture(new IllegalStateException("login service down"))
                    : CompletableFuture.completedFuture(tokens.hmac("ana")));
            BlockingQueue<ConnectError> errors = new LinkedBlockingQueue<>();
            socket.onConnectError(errors::add);
            socket.connect();
            assertTrue(errors.poll(10, TimeUnit.SECONDS).message().contains("login service down"));
            socket.connect();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            assertEquals("ana", connected.poll(10, TimeUnit.SECONDS).userId());
        }
    }

    /**
     * A provider whose future never settles (a login service that never answers) holds the
     * connect for no longer than the connect timeout: a connect error, as for a provider that
     * fails, and a token it hands over late goes nowhere.
     */
    @Test
    void aProviderThatNeverAnswersIsAConnectErrorAfterTheConnectTimeout() throws Exception {
        try (SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(),
                ClientOptions.builder().autoConnect(false).connectTimeout(Duration.ofSeconds(1)).build())) {
            AtomicInteger calls = new AtomicInteger();
            CompletableFuture<String> never = new CompletableFuture<>();
            ClientSocket socket = client.socket().tokenProvider(() -> calls.incrementAndGet() == 1
                    ? never : CompletableFuture.completedFuture(tokens.hmac("ana")));
            BlockingQueue<ConnectError> errors = new LinkedBlockingQueue<>();
            socket.onConnectError(errors::add);
            socket.connect();
            CompletableFuture<ClientSocket> waiting = socket.whenConnected();
            ConnectError error = errors.poll(10, TimeUnit.SECONDS);
            assertNotNull(error, "no connect error within 10 s");
            assertTrue(error.message().contains("token provider did not answer within 1000 ms"), error.message());
            ExecutionException failed = assertThrows(ExecutionException.class, () -> waiting.get(10, TimeUnit.SECONDS));
            assertTrue(failed.getCause() instanceof ConnectErrorException, failed.toString());
            assertFalse(never.isDone(), "the provider's own future is left to it");

            never.complete(tokens.hmac("bob"));
            socket.connect();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            assertEquals("ana", connected.poll(10, TimeUnit.SECONDS).userId());
            // A connect with the late token would reach the server within a round trip.
            assertEquals(null, connected.poll(2, TimeUnit.SECONDS), "the late token connected nobody");
        }
    }

    /**
     * The application sets a provider while the connect waits for the one before (a start-up
     * provider that hangs, replaced by the login's): the connect takes the new provider's token
     * at once, and the replaced one's, handed over late, connects nobody.
     */
    @Test
    void aProviderSetWhileTheConnectWaitsForTheOneBeforeIsTheOneTheConnectTakes() throws Exception {
        try (SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(),
                ClientOptions.builder().autoConnect(false).connectTimeout(Duration.ofMinutes(5)).build())) {
            AtomicInteger asked = new AtomicInteger();
            CompletableFuture<String> startUp = new CompletableFuture<>();
            ClientSocket socket = client.socket().tokenProvider(() -> {
                asked.incrementAndGet();
                return startUp;
            });
            socket.connect();
            Await.until("the start-up provider asked", () -> asked.get() == 1);
            socket.tokenProvider(() -> CompletableFuture.completedFuture(tokens.hmac("ana")));
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            assertEquals("ana", connected.poll(10, TimeUnit.SECONDS).userId());
            startUp.complete(tokens.hmac("bob"));
            assertEquals(null, connected.poll(2, TimeUnit.SECONDS), "the replaced provider's late token connected nobody");
            assertEquals(1, asked.get(), "the replaced provider asked again");
        }
    }

    /**
     * At a reconnection (a phone waking up) the login service answers too late once: the socket
     * must not give up its session for it. The timeout is a connect error the socket retries
     * after the reconnection backoff, as a server it cannot reach.
     */
    @Test
    void aProviderTooSlowAtAReconnectionIsAskedAgainAndTheSessionRecovers() throws Exception {
        try (CuttableProxy network = new CuttableProxy(server.port());
             SwitchboardClient client = SwitchboardClient.connect(network.webSocketUri(), ClientOptions.builder()
                     .autoConnect(false).connectTimeout(Duration.ofSeconds(1))
                     .reconnectionDelay(Duration.ofMillis(50)).reconnectionDelayMax(Duration.ofMillis(200)).build())) {
            AtomicInteger calls = new AtomicInteger();
            CompletableFuture<String> never = new CompletableFuture<>();
            ClientSocket socket = client.socket().tokenProvider(() -> calls.incrementAndGet() == 2
                    ? never : CompletableFuture.completedFuture(tokens.hmac("ana")));
            BlockingQueue<ConnectError> errors = new LinkedBlockingQueue<>();
            socket.onConnectError(errors::add);
            socket.connect();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            String id = connected.poll(10, TimeUnit.SECONDS).id();

            network.cut();
            ConnectError error = errors.poll(10, TimeUnit.SECONDS);
            assertNotNull(error, "no connect error within 10 s");
            assertEquals("token provider did not answer within 1000 ms", error.message());
            Socket back = connected.poll(10, TimeUnit.SECONDS);
            assertNotNull(back, "the socket gave up after the provider's timeout");
            assertEquals(id, back.id());
            assertTrue(back.recovered(), "the session was lost");
            Await.until("the client recovered", () -> socket.connected() && socket.recovered());
            assertEquals(3, calls.get(), "asked at connect, at the reconnection, and once more after its timeout");
        }
    }

    /**
     * The server asks for a fresh token 30 s before the expiry and waits until the expiry: a
     * provider that takes longer than the client's connect timeout to answer is still in time.
     */
    @Test
    void aRefreshWaitsForAProviderSlowerThanTheConnectTimeout() throws Exception {
        try (SwitchboardClient client = SwitchboardClient.connect(server.webSocketUri(),
                ClientOptions.builder().autoConnect(false).connectTimeout(Duration.ofSeconds(1)).build())) {
            AtomicInteger calls = new AtomicInteger();
            ClientSocket socket = client.socket().tokenProvider(() -> {
                String token = tokens.hmac("ana");
                return calls.incrementAndGet() == 1 ? CompletableFuture.completedFuture(token)
                        : CompletableFuture.supplyAsync(() -> token, CompletableFuture.delayedExecutor(2, TimeUnit.SECONDS));
            });
            socket.connect();
            socket.whenConnected().get(10, TimeUnit.SECONDS);
            Socket onServer = connected.poll(10, TimeUnit.SECONDS);
            Instant firstExpiry = JwtAuth.claims(onServer).expiresAt();

            time.advance(LIFETIME.minusSeconds(30));
            Await.until("the token refreshed", () -> JwtAuth.claims(onServer).expiresAt().isAfter(firstExpiry));
            time.advance(Duration.ofSeconds(31));
            assertTrue(onServer.connected(), "past the first token's expiry on the second");
        }
    }

    /**
     * Without middleware at recovery the session keeps the token it was admitted with. One that
     * expired while its client was away must not bring the client what was sent to the user
     * since: a connected socket would have been cut off at the expiry and been sent none of it.
     */
    @Test
    void withoutMiddlewareAtRecoveryASessionWhoseTokenExpiredWhileAwayIsRefusedBeforeItsReplay() throws Exception {
        server.close();
        server = start(TestServer.options().recoveryRunsMiddleware(false).recoveryWindow(Duration.ofMinutes(10)));
        String pid;
        String offset;
        try (RawClient ana = server.raw()) {
            ana.next("hello");
            pid = ana.connectNamespace("/", credentials(tokens.hmac("ana"))).getString("pid");
            server.switchboard().root().toUser("ana").emit("before", 1);
            offset = ana.next("event").getString("offset");
            ana.abort();
        }
        Await.until("Ana's session waits", () -> server.switchboard().root().detachedSessions().size() == 1);
        time.advance(LIFETIME);
        server.switchboard().root().toUser("ana").emit("after-expiry", 1);
        try (RawClient back = server.raw()) {
            back.next("hello");
            JsonObject answer = back.connectNamespace("/",
                    credentials(tokens.hmac("ana")) + ",\"pid\":\"" + pid + "\",\"offset\":\"" + offset + "\"");
            assertEquals("connect_error", answer.getString("type"), "the expired session recovered: " + answer);
            assertEquals("token_expired", answer.getJsonObject("data").getString("code"));
            JsonObject fresh = back.connectNamespace("/", credentials(tokens.hmac("ana")));
            assertEquals(false, fresh.getBoolean("recovered"));
            server.switchboard().root().toUser("ana").emit("now", 1);
            assertEquals("now", back.next("event").getString("event"), "nothing of the expired session came first");
        }
        assertEquals(0, server.switchboard().root().detachedSessions().size());
    }

    @Test
    void aTokenOfAnotherUserCannotTakeOverASession() throws Exception {
        String pid;
        try (RawClient ana = server.raw()) {
            ana.next("hello");
            pid = ana.connectNamespace("/", credentials(tokens.hmac("ana"))).getString("pid");
            ana.abort();
        }
        Await.until("Ana's session waits", () -> server.switchboard().root().detachedSessions().size() == 1);
        try (RawClient pedro = server.raw()) {
            pedro.next("hello");
            JsonObject answer = pedro.connectNamespace("/",
                    credentials(tokens.hmac("pedro")) + ",\"pid\":\"" + pid + "\"");
            assertEquals("connect_error", answer.getString("type"));
            assertEquals("token_invalid", answer.getJsonObject("data").getString("code"));
        }
        assertEquals(0, server.switchboard().root().detachedSessions().size());
    }

    // ---- tokens ----

    private static SwitchboardClient client(URI uri) {
        return SwitchboardClient.connect(uri, ClientOptions.builder().autoConnect(false)
                .reconnectionDelay(Duration.ofMillis(50)).reconnectionDelayMax(Duration.ofMillis(200)).build());
    }

    private static String credentials(String token) {
        return "{\"token\":\"" + token + "\"}";
    }

    private String rsa(String subject) {
        return Tokens.sign(signer(() -> new RSASSASigner(RSA)), JWSAlgorithm.RS256, "rsa-1", tokens.claims(subject).build());
    }

    private String ec(String subject) {
        return Tokens.sign(signer(() -> new ECDSASigner(EC)), JWSAlgorithm.ES256, "ec-1", tokens.claims(subject).build());
    }

    private static JWSSigner signer(KeyMaker<JWSSigner> maker) {
        return generate(maker);
    }
}
