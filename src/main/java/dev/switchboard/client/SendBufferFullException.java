package dev.switchboard.client;

/**
 * Refuses an emit because the socket already holds {@link ClientOptions#maxBufferedEmits()}
 * emits waiting to be sent (offline, paced to the server's rate limit, or behind
 * {@link ClientOptions#sendQueueBytes()} of frames the server has not read) or, with retries, to
 * be acknowledged. The emits already buffered stay and are sent in order; the refused one is not
 * sent at all. {@code emit} throws it; the future of {@code emitWithAck} fails with it.
 *
 * <pre>{@code
 * try {
 *     chat.emit("message", text);
 * } catch (SendBufferFullException e) {
 *     showOffline("not sent: " + e.getMessage());
 * }
 * }</pre>
 */
public final class SendBufferFullException extends IllegalStateException {
    SendBufferFullException(int limit) {
        super("the send buffer is full: " + limit + " emits are waiting to be sent or acknowledged");
    }
}
