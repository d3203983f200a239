package dev.switchboard.client;

/**
 * Fails the future of {@link ClientSocket#emitWithAck} (without retries) whose event was sent on
 * a connection that then dropped, or on a socket that was then disconnected. The server fails
 * the acks it owes at a drop and does not replay them, so no answer can come any more; the
 * handler may or may not have run. Emits that were not sent yet stay buffered and are sent after
 * the next connect; with {@link ClientOptions#retries()} an emit is resent instead.
 *
 * <pre>{@code
 * socket.emitWithAck("save", draft).exceptionally(error -> {
 *     if (error instanceof DisconnectedException) {
 *         markUnsure(draft);   // saved or not: look it up once the socket is back
 *     }
 *     return null;
 * });
 * }</pre>
 */
public final class DisconnectedException extends RuntimeException {
    private final String event;

    DisconnectedException(String event) {
        super("socket has been disconnected before event '" + event + "' was answered");
        this.event = event;
    }

    /** The event whose answer was lost. */
    public String event() {
        return event;
    }
}
