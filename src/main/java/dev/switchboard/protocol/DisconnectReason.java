package dev.switchboard.protocol;

/**
 * Why a socket ended: a closed set, reported to the server's {@code onDisconnect} listeners and
 * to the client in {@code disconnect.reason}, with the WebSocket close code that ends a connection
 * for that reason (docs/PROTOCOL.md, "Disconnect reasons" and "Close codes").
 *
 * <pre>{@code
 * socket.onDisconnect(reason -> log.info(name + " left: " + reason.text()));
 * DisconnectReason told = DisconnectReason.fromText("ping timeout");   // PING_TIMEOUT
 * }</pre>
 */
public enum DisconnectReason {
    /** The client disconnected the socket or closed the connection. */
    CLIENT_DISCONNECT("client disconnect", 1000, false),
    /** The application disconnected the socket. */
    SERVER_DISCONNECT("server disconnect", 1000, false),
    /** The connection closed without a goodbye (network drop, tab killed). */
    TRANSPORT_CLOSE("transport close", 1006, true),
    /** The connection failed with an error. */
    TRANSPORT_ERROR("transport error", 1011, true),
    /** The client did not answer a ping in time. */
    PING_TIMEOUT("ping timeout", 4000, true),
    /** The client read too slowly and its send queue overflowed. */
    SLOW_CONSUMER("slow consumer", 4001, true),
    /** The client broke the rules: repeated protocol errors, a flood, too large a message. */
    POLICY_VIOLATION("policy violation", 1008, false),
    /** The server is shutting down. */
    SERVER_SHUTTING_DOWN("server shutting down", 1001, true),
    /** The server is draining for a restart: the client should reconnect, to another node if there is one. */
    SERVER_RESTARTING("server restarting", 1012, true),
    /**
     * The node could not reach its cluster's store while the client recovered a session: the
     * session is still there, and the client should come back (1013, try again later).
     */
    CLUSTER_UNAVAILABLE("cluster unavailable", 1013, true),
    /** The socket's token expired and the client gave no fresh one when asked ({@code refresh}). */
    TOKEN_EXPIRED("token expired", 4002, false);

    private final String text;
    private final int closeCode;
    private final boolean recoverable;

    DisconnectReason(String text, int closeCode, boolean recoverable) {
        this.text = text;
        this.closeCode = closeCode;
        this.recoverable = recoverable;
    }

    /** The reason as sent on the wire, e.g. {@code "ping timeout"}. */
    public String text() {
        return text;
    }

    /** The WebSocket close code for a connection that ends for this reason. */
    public int closeCode() {
        return closeCode;
    }

    /**
     * Whether the client did not mean to leave, so the server keeps its session for recovery and
     * the client comes back with its {@code pid}.
     */
    public boolean recoverable() {
        return recoverable;
    }

    /**
     * Whether a client can bring this about by what it does (dropping, stalling, failing): not a
     * drain, a shutdown or a node cut from its cluster, which end every connection at once.
     */
    public boolean clientMayCause() {
        return this != SERVER_SHUTTING_DOWN && this != SERVER_RESTARTING && this != CLUSTER_UNAVAILABLE;
    }

    /** The reason with this wire text, or {@code null} for a text outside the closed set. */
    public static DisconnectReason fromText(String text) {
        for (DisconnectReason reason : values()) {
            if (reason.text.equals(text)) {
                return reason;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return text;
    }
}
