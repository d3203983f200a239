package dev.switchboard.client;

/**
 * Fails the future of an at-least-once {@link ClientSocket#emitWithAck} (option
 * {@link ClientOptions#retries()}) that was sent but not acknowledged when the socket came back
 * with {@code recovered: false}. The server may or may not have handled it; it keeps no memory of
 * the old session's message ids, so resending would risk running the handler twice. Emits not
 * sent yet go to the new session as usual.
 *
 * <pre>{@code
 * socket.emitWithAck("pay", order).exceptionally(error -> {
 *     if (error instanceof SessionLostException) {
 *         checkWhetherPaid(order);   // ask the server, then pay again if it did not
 *     }
 *     return null;
 * });
 * }</pre>
 */
public final class SessionLostException extends RuntimeException {
    private final String event;

    SessionLostException(String event) {
        super("session lost before event '" + event + "' was acknowledged: the server may or may not have handled it");
        this.event = event;
    }

    /** The event whose fate is unknown. */
    public String event() {
        return event;
    }
}
