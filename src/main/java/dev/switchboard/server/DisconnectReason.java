package dev.switchboard.server;

/**
 * Why a socket ended: a closed set, reported to {@code onDisconnect} listeners and to the client.
 *
 * <pre>{@code
 * socket.onDisconnect(reason -> log.info(name + " left: " + reason.text()));
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
    SERVER_SHUTTING_DOWN("server shutting down", 1001, true);

    private final String text;
    private final int closeCode;
    private final boolean unexpected;

    DisconnectReason(String text, int closeCode, boolean unexpected) {
        this.text = text;
        this.closeCode = closeCode;
        this.unexpected = unexpected;
    }

    /** The reason as sent on the wire, e.g. {@code "ping timeout"}. */
    public String text() {
        return text;
    }

    /** The WebSocket close code for a connection that ends for this reason. */
    public int closeCode() {
        return closeCode;
    }

    /** Whether the client did not mean to leave, so its session is kept for recovery. */
    public boolean unexpected() {
        return unexpected;
    }

    @Override
    public String toString() {
        return text;
    }
}
