package dev.switchboard.transport.engineio;

import dev.switchboard.api.Handshake;
import dev.switchboard.protocol.socketio.SocketIoCodec;
import dev.switchboard.server.Connection;
import dev.switchboard.server.Switchboard;
import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.outbound.Transport;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The Engine.IO v4 side of a {@link Switchboard}, shared by its HTTP long-polling handler and its
 * WebSocket endpoint: the polling sessions by sid, and the one {@link SocketIoCodec} they speak.
 * Container glue hands it each HTTP request to the Socket.IO path ({@link #handle}); the WebSocket
 * endpoint asks it for the session a client upgrades ({@link #upgrading}).
 *
 * <pre>{@code
 * EngineIo engine = EngineIo.of(server);
 * engine.handle(request);          // a GET or POST to /socket.io/
 * EngineIo.release(server);        // when the server stops
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class EngineIo {
    static final String TEXT = "text/plain; charset=UTF-8";
    static final String JSON = "application/json";

    private static final Map<Switchboard, EngineIo> BY_SERVER = new ConcurrentHashMap<>();

    private final Switchboard switchboard;
    private final SocketIoCodec codec;
    private final Map<String, PollingTransport> sessions = new ConcurrentHashMap<>();
    /**
     * Closed sessions kept for their client's last GET ({@link #forgetUnlessPolled}); out of the
     * connection count, so bounded here instead. Any thread.
     */
    private final Set<PollingTransport> lingering = ConcurrentHashMap.newKeySet();

    private EngineIo(Switchboard switchboard) {
        this.switchboard = switchboard;
        this.codec = new SocketIoCodec(switchboard.options().recoveryEnabled());
    }

    /** The Engine.IO side of {@code switchboard}, made on first use. */
    public static EngineIo of(Switchboard switchboard) {
        return BY_SERVER.computeIfAbsent(switchboard, EngineIo::new);
    }

    /** Forgets the Engine.IO side of a server that stopped. */
    public static void release(Switchboard switchboard) {
        BY_SERVER.remove(switchboard);
    }

    /** The codec of every Socket.IO connection of this server, whatever its transport. */
    public SocketIoCodec codec() {
        return codec;
    }

    /**
     * The reason a handshake is refused, or {@code null}: Engine.IO v4 and a known transport only.
     * The reference server answers these with HTTP 400 and a JSON error.
     */
    public static String refusal(Handshake handshake) {
        if (!String.valueOf(SocketIoCodec.ENGINE_IO_VERSION).equals(handshake.query("EIO"))) {
            return "Unsupported protocol version";
        }
        String transport = handshake.query("transport");
        if (!"polling".equals(transport) && !"websocket".equals(transport)) {
            return "Transport unknown";
        }
        return null;
    }

    /** One HTTP request to the Socket.IO path. */
    public void handle(PollRequest request) {
        Handshake handshake = request.handshake();
        if (handshake == null) {
            request.answer(400, JSON, error(3, "Bad request"));
            return;
        }
        String refusal = refusal(handshake);
        if (refusal != null || !"polling".equals(handshake.query("transport"))) {
            request.answer(400, JSON, refusal != null ? error(refusal.startsWith("Unsupported") ? 5 : 0, refusal)
                    : error(3, "Bad request"));
            return;
        }
        if (!switchboard.originPolicy().allows(handshake.header("Origin"), request.client().host(),
                request.client().secure())) {
            switchboard.metrics().countRejectedOrigin();
            request.answer(403, JSON, error(4, "Forbidden"));
            return;
        }
        String sid = handshake.query("sid");
        if (sid == null) {
            if ("GET".equals(request.method())) {
                open(request, handshake);
            } else {
                request.answer(400, JSON, error(3, "Bad request"));
            }
            return;
        }
        PollingTransport session = sessions.get(sid);
        if (session == null || session.upgraded()) {
            request.answer(400, JSON, error(1, "Session ID unknown"));
            return;
        }
        switch (request.method()) {
            case "GET" -> {
                request.held();
                session.poll(request);
            }
            case "POST" -> post(request, session);
            default -> request.answer(400, JSON, error(2, "Bad handshake method"));
        }
    }

    private void open(PollRequest request, Handshake handshake) {
        PollingTransport session = new PollingTransport(this, switchboard.options().maxPayloadBytes());
        Connection connection = switchboard.open(session, handshake, codec);
        if (connection == null) {
            request.answer(503, JSON, error(3, "Server unavailable"));
            return;
        }
        // Registered before the session learns its connection, so that a close from then on finds
        // and forgets it; a close before that found no connection to report to, so it is reported here.
        sessions.put(connection.id(), session);
        if (!session.connection(connection)) {
            sessions.remove(connection.id(), session);
            connection.onTransportClosed(session.closeCode());
            request.answer(503, JSON, error(3, "Server unavailable"));
            return;
        }
        // The open packet is buffered already: this GET takes it.
        session.poll(request);
    }

    private void post(PollRequest request, PollingTransport session) {
        String body = request.body();
        if (body == null) {
            // As the reference server: too large a payload ends the session.
            request.answer(413, JSON, error(3, "Payload too large"));
            session.connection().onMessageTooBig();
            return;
        }
        if (!session.startReceiving()) {
            // As the reference server: a POST while another is under way is the client's error, and ends the session.
            request.answer(400, JSON, error(3, "Bad request"));
            session.connection().onTransportError(new IllegalStateException("overlapping polling POSTs"));
            return;
        }
        // Answered once its packets are handled: the client sends its next POST on this answer (a binary
        // packet's attachments often in that one), which must not overtake these packets. Its
        // listeners may take long, so the request is no longer timed as an idle one.
        request.held();
        try {
            session.receive(body);
        } finally {
            session.received();
        }
        request.answer(200, TEXT, "ok");
    }

    /**
     * The polling session a WebSocket with {@code sid} upgrades, or {@code null} when there is
     * none to upgrade.
     */
    public Upgrade upgrading(String sid) {
        PollingTransport session = sid == null ? null : sessions.get(sid);
        return session == null || session.upgraded() ? null : new Upgrade(this, session);
    }

    void forget(PollingTransport session) {
        lingering.remove(session);
        Connection connection = session.connection();
        if (connection != null) {
            sessions.remove(connection.id(), session);
        }
    }

    /**
     * Forgets a closed session once a live client would have polled again (a heartbeat's time),
     * unless its last GET, which takes what the server sent before closing, forgets it first.
     * Closing is cheap to provoke (a bad packet does it) and a closed session no longer counts
     * against {@code maxConnections}: past that many kept, one is forgotten at once, and its
     * client's next GET learns the session is gone (400) rather than how it ended.
     */
    void forgetUnlessPolled(PollingTransport session) {
        if (lingering.size() >= switchboard.options().maxConnections()) {
            forget(session);
            return;
        }
        lingering.add(session);
        switchboard.later(() -> forget(session), heartbeat());
    }

    /**
     * Waits until every session closed with {@code code} while no GET waited has handed its client
     * the close (and what was sent before it) on the client's next GET, or {@code within} has
     * passed. A server that stops HTTP sooner turns that GET into a connection error, and the last
     * events are lost.
     *
     * @return whether none is left waiting
     */
    public boolean awaitFinalPolls(int code, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        try {
            while (sessions.values().stream().anyMatch(session -> session.awaitsFinalPoll(code))) {
                if (System.nanoTime() >= deadline) {
                    return false;
                }
                TimeUnit.MILLISECONDS.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return true;
    }

    /** Within this, a live client answers a ping: {@code pingInterval + pingTimeout}. */
    private Duration heartbeat() {
        SwitchboardOptions options = switchboard.options();
        return options.pingInterval().plus(options.pingTimeout());
    }

    /**
     * A polling request as a {@link Handshake}, from what every container offers.
     *
     * @param parameters the query parameters as the servlet and Grizzly APIs give them
     * @return {@code null} when {@code uri} is no URI as RFC 3986 has it (an escape that is none,
     *         such as {@code %ZZ}, or a character it does not allow, such as {@code |}), which
     *         {@link #handle} answers as a bad request. The containers pass such a query on, and
     *         an error thrown out of a request gone async left it unanswered on Jetty for good,
     *         dropped on Tomcat and 500 on Grizzly, each with a stack trace in the log.
     */
    public Handshake handshake(String uri, Map<String, List<String>> headers, Map<String, String[]> parameters,
                               String remoteAddress) {
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            return null;
        }
        Map<String, List<String>> query = new HashMap<>();
        parameters.forEach((name, values) -> query.put(name, List.of(values)));
        return new Handshake(parsed, headers, query, remoteAddress, Instant.now(switchboard.options().clock()), null);
    }

    static String error(int code, String message) {
        return "{\"code\":" + code + ",\"message\":\"" + message + "\"}";
    }

    /** A WebSocket taking over a polling session: probed first, then upgraded. */
    public static final class Upgrade {
        private final EngineIo engine;
        private final PollingTransport session;

        private Upgrade(EngineIo engine, PollingTransport session) {
            this.engine = engine;
            this.session = session;
        }

        /**
         * The WebSocket {@code probe} begins to take the session over: false when the session is
         * closed, upgraded or probed by another WebSocket already. A probe has no heartbeat of its
         * own: one that has not upgraded within a heartbeat's time ({@code pingInterval +
         * pingTimeout}) is closed, as one still probing when the session closes.
         */
        public boolean begin(Transport probe) {
            if (!session.probing(probe)) {
                return false;
            }
            engine.switchboard.later(() -> {
                if (session.probeEnded(probe)) {
                    probe.close(1000, "upgrade timeout");
                }
            }, engine.heartbeat());
            return true;
        }

        /** The probing WebSocket {@code probe} ended before it upgraded: the client polls on. */
        public void abandoned(Transport probe) {
            session.probeEnded(probe);
        }

        /** The connection the WebSocket carries once upgraded. */
        public Connection connection() {
            return session.connection();
        }

        /** The client sent {@code 2probe}: its waiting GET returns so that it pauses polling. */
        public void probed() {
            session.releasePoll();
        }

        /** The client sent {@code 5}: from now on packets go over {@code webSocket}. */
        public void complete(Transport webSocket) {
            session.upgrade(webSocket);
        }
    }
}
