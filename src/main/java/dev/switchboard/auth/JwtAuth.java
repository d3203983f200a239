package dev.switchboard.auth;

import dev.switchboard.protocol.DisconnectReason;
import dev.switchboard.protocol.JsonMapper;
import dev.switchboard.server.ConnectionRejectedException;
import dev.switchboard.server.Middleware;
import dev.switchboard.server.Namespace;
import dev.switchboard.server.Socket;
import dev.switchboard.server.Switchboard;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;

/**
 * Token authentication for a namespace: the middleware verifies the JWT a client sends as
 * {@code auth: {token}}, the token's {@code sub} becomes the socket's user id, and its expiry is
 * enforced for the life of the connection. Shortly before {@code exp} the server asks the client
 * for a fresh token with the reserved {@code refresh} event (docs/PROTOCOL.md, "Token refresh");
 * a client that gives none in time is disconnected with {@link DisconnectReason#TOKEN_EXPIRED}.
 *
 * <p>A refused client gets {@code connect_error} with the message {@code "unauthorized"} and
 * {@code data: {"code": ...}}, one of {@link TokenRejectedException}'s codes and nothing more. At
 * recovery (middleware runs again, the default) the token must be valid and name the session's
 * user, or the session ends; with {@code recoveryRunsMiddleware(false)} the session keeps its
 * token, and one that expired while the client was away refuses the recovery ({@code token_expired})
 * and ends the session, before the client is sent any of it.
 *
 * <pre>{@code
 * JwtAuth.install(chat, TokenVerifier.builder().hmacSecret(secret).audience("chat").build());
 * chat.onConnection(socket -> JwtAuth.claims(socket).channels().forEach(socket::join));
 * }</pre>
 *
 * <p>Times come from the server's clock and scheduler ({@code SwitchboardOptions.clock},
 * {@code scheduler}). Each socket's {@link Watch} guards its own timers.
 */
public final class JwtAuth implements Middleware {
    /** The reserved event by which the server asks for a fresh token. */
    public static final String REFRESH = "refresh";
    /** How long before {@code exp} the server asks, unless configured. */
    public static final Duration DEFAULT_REFRESH_AHEAD = Duration.ofSeconds(30);

    private static final System.Logger LOG = System.getLogger(JwtAuth.class.getName());
    private static final String CLAIMS_KEY = "auth.claims";
    /** Left before the end below which a failed ask is not made again. */
    private static final Duration MIN_ASK_AGAIN = Duration.ofSeconds(1);

    private final TokenVerifier verifier;
    private final Duration refreshAhead;
    private final Switchboard server;

    private JwtAuth(TokenVerifier verifier, Duration refreshAhead, Switchboard server) {
        this.verifier = verifier;
        this.refreshAhead = refreshAhead;
        this.server = server;
    }

    /** Installs token authentication on {@code namespace}, asking for a fresh token 30 s before expiry. */
    public static JwtAuth install(Namespace namespace, TokenVerifier verifier) {
        return install(namespace, verifier, DEFAULT_REFRESH_AHEAD);
    }

    /** Installs token authentication, asking for a fresh token {@code refreshAhead} before expiry. */
    public static JwtAuth install(Namespace namespace, TokenVerifier verifier, Duration refreshAhead) {
        JwtAuth auth = new JwtAuth(verifier, refreshAhead, namespace.switchboard());
        namespace.use(auth);
        namespace.onConnection(auth::watch);
        return auth;
    }

    /** The claims of the token a socket was admitted with, or last refreshed with. */
    public static TokenClaims claims(Socket socket) {
        Object claims = socket.data().get(CLAIMS_KEY);
        if (claims instanceof Map<?, ?> json) {
            // A session recovered on another node of a cluster: its data came through the shared
            // session store as JSON. Read back, so that its expiry still holds on this node.
            TokenClaims read = JsonMapper.fromJson(JsonMapper.toRaw(json), TokenClaims.class);
            socket.data().put(CLAIMS_KEY, read);
            return read;
        }
        return (TokenClaims) claims;
    }

    /** The client's connect payload, {@code {"token": "..."}}; public for JSON-B. */
    public record Credentials(String token) {
    }

    @Override
    public void check(Socket socket) throws ConnectionRejectedException {
        TokenClaims claims;
        try {
            claims = verifier.verify(tokenOf(socket), clock());
        } catch (TokenRejectedException e) {
            LOG.log(System.Logger.Level.DEBUG, "token refused for socket {0}: {1}", socket.id(), e.getMessage());
            throw new ConnectionRejectedException("unauthorized", Map.of("code", e.code()));
        }
        // At recovery the socket already carries its session's user: a token must not take it over.
        if (socket.userId() != null && !socket.userId().equals(claims.userId())) {
            LOG.log(System.Logger.Level.DEBUG, "socket {0} presented a token of another user", socket.id());
            throw new ConnectionRejectedException("unauthorized", Map.of("code", TokenRejectedException.INVALID));
        }
        socket.userId(claims.userId());
        socket.data().put(CLAIMS_KEY, claims);
    }

    /** The session's own token, which a client recovering without middleware does not present again. */
    @Override
    public void checkRecovery(Socket socket) throws ConnectionRejectedException {
        if (!clock().instant().isBefore(claims(socket).expiresAt())) {
            LOG.log(System.Logger.Level.DEBUG, "socket {0} recovers a session whose token expired", socket.id());
            throw new ConnectionRejectedException("unauthorized", Map.of("code", TokenRejectedException.EXPIRED));
        }
    }

    private static String tokenOf(Socket socket) {
        try {
            Credentials credentials = socket.handshake().auth(Credentials.class);
            return credentials == null ? null : credentials.token();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private Clock clock() {
        return server.options().clock();
    }

    private void watch(Socket socket) {
        Watch watch = new Watch(socket);
        socket.onDisconnect(reason -> watch.stop());
        watch.until(claims(socket).expiresAt());
    }

    /** One socket's token expiry: the time to ask for a fresh one, and the end. */
    private final class Watch {
        private final Socket socket;
        /** Guarded by {@code this}, as are the timers. */
        private Instant expiresAt;
        private ScheduledFuture<?> askTimer;
        private ScheduledFuture<?> endTimer;
        private boolean stopped;
        /** Whether {@link #end} is setting its timer again; guarded by {@code this}. */
        private boolean rescheduling;

        Watch(Socket socket) {
            this.socket = socket;
        }

        synchronized void until(Instant expiry) {
            if (stopped) {
                return;
            }
            cancelTimers();
            expiresAt = expiry;
            Duration left = Duration.between(clock().instant(), expiry);
            // A token shorter-lived than refreshAhead is asked for at half its life, not at once.
            Duration askIn = left.minus(refreshAhead);
            if (askIn.compareTo(left.dividedBy(2)) < 0) {
                askIn = left.dividedBy(2);
            }
            askTimer = server.later(this::ask, positive(askIn));
            endTimer = server.later(this::end, wholeMillis(positive(left)));
        }

        synchronized void stop() {
            stopped = true;
            cancelTimers();
        }

        private void cancelTimers() {
            for (ScheduledFuture<?> timer : new ScheduledFuture<?>[] {askTimer, endTimer}) {
                if (timer != null) {
                    timer.cancel(false);
                }
            }
        }

        private void ask() {
            Duration left;
            synchronized (this) {
                left = Duration.between(clock().instant(), expiresAt);
            }
            if (left.isNegative() || left.isZero()) {
                return;
            }
            socket.timeout(left).emitWithAck(REFRESH).whenComplete((reply, failure) -> {
                if (failure != null) {
                    askAgain();
                    return;
                }
                String token = reply.isEmpty() ? null : reply.raw(0).isNull() ? null : reply.get(0, String.class);
                renew(token);
            });
        }

        /**
         * The ask failed without an answer (the client owed too many acks, or answered with an
         * error): asked again at half the time left, so that a client able to refresh is not cut
         * off for one failed ask. An ask that timed out leaves no time; a socket that ended stops.
         */
        private synchronized void askAgain() {
            Duration left = Duration.between(clock().instant(), expiresAt);
            if (!stopped && left.compareTo(MIN_ASK_AGAIN) > 0) {
                askTimer = server.later(this::ask, left.dividedBy(2));
            }
        }

        /** A fresh token for the same user moves the end; anything else leaves it where it is. */
        private void renew(String token) {
            TokenClaims fresh;
            try {
                fresh = verifier.verify(token, clock());
            } catch (TokenRejectedException e) {
                LOG.log(System.Logger.Level.DEBUG, "refresh refused for socket {0}: {1}", socket.id(), e.getMessage());
                return;
            }
            if (!fresh.userId().equals(socket.userId())) {
                LOG.log(System.Logger.Level.DEBUG, "socket {0} refreshed with a token of another user", socket.id());
                return;
            }
            synchronized (this) {
                if (!fresh.expiresAt().isAfter(expiresAt)) {
                    // The same token again (or an older one): asking again at once would loop until the end.
                    LOG.log(System.Logger.Level.DEBUG, "socket {0} refreshed with a token that expires no later", socket.id());
                    return;
                }
            }
            socket.data().put(CLAIMS_KEY, fresh);
            // A client that recovers elsewhere without middleware (recoveryRunsMiddleware false)
            // keeps the claims of its record: they must be the fresh ones should this node die.
            socket.saveData();
            until(fresh.expiresAt());
        }

        private void end() {
            synchronized (this) {
                if (stopped) {
                    return;
                }
                Duration left = Duration.between(clock().instant(), expiresAt);
                if (left.compareTo(Duration.ZERO) > 0) {
                    // Renewed meanwhile, or early: timers run on the JVM's own time, which the
                    // clock may not follow to the microsecond (or it was set back). Either way the
                    // end comes when the token in force expires, never not at all. Not again when
                    // a scheduler that takes no more tasks ran this at once: the server is closing.
                    if (!rescheduling) {
                        rescheduling = true;
                        try {
                            endTimer.cancel(false);
                            endTimer = server.later(this::end, wholeMillis(left));
                        } finally {
                            rescheduling = false;
                        }
                    }
                    return;
                }
            }
            socket.disconnect(DisconnectReason.TOKEN_EXPIRED);
        }

        /** Rounded up: timers take whole milliseconds, and one rounded down falls due before the expiry. */
        private static Duration wholeMillis(Duration duration) {
            Duration millis = Duration.ofMillis(duration.toMillis());
            return millis.equals(duration) ? millis : millis.plusMillis(1);
        }

        private static Duration positive(Duration duration) {
            return duration.isNegative() ? Duration.ZERO : duration;
        }
    }
}
