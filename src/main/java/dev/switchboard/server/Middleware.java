package dev.switchboard.server;

/**
 * Decides whether a socket may connect to a namespace. It sees the handshake, may set the
 * socket's user and data, and rejects by throwing {@link ConnectionRejectedException}; the client
 * then gets a {@code connect_error} and the application never sees the socket as connected.
 * Middleware that throws anything else refuses the socket too, with {@code "server error"}, and
 * the failure is logged and counted in {@link Metrics#listenerFailures()}.
 * Middleware runs on the connection's reading thread and must not emit on the socket.
 *
 * <pre>{@code
 * chat.use(socket -> {
 *     String user = tokens.verify(socket.handshake().auth(Login.class).token());
 *     if (user == null) throw new ConnectionRejectedException("invalid token");
 *     socket.userId(user);
 * });
 * }</pre>
 */
@FunctionalInterface
public interface Middleware {
    /** Accepts by returning, rejects by throwing. */
    void check(Socket socket) throws ConnectionRejectedException;

    /**
     * Checks a recovering socket in place of {@link #check} when middleware does not run at
     * recovery ({@code recoveryRunsMiddleware(false)}): the socket carries its session's user and
     * data, which may have lapsed while the client was away (an expired token). Runs before the
     * client is sent anything of the session; accepts by returning, as by default, rejects by
     * throwing, which ends the session.
     */
    default void checkRecovery(Socket socket) throws ConnectionRejectedException {
    }
}
