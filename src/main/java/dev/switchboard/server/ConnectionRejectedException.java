package dev.switchboard.server;

/**
 * Thrown by {@link Middleware} to refuse a socket; the message and data reach the client in its
 * {@code connect_error}.
 *
 * <pre>{@code
 * throw new ConnectionRejectedException("name taken", Map.of("name", name));
 * }</pre>
 */
public final class ConnectionRejectedException extends Exception {
    private final transient Object data;

    public ConnectionRejectedException(String message) {
        this(message, null);
    }

    /** @param data any JSON-B mappable value sent to the client, or {@code null} */
    public ConnectionRejectedException(String message, Object data) {
        super(message, null, false, false);
        this.data = data;
    }

    /** The data sent to the client, or {@code null}. */
    public Object data() {
        return data;
    }
}
