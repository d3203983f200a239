package dev.switchboard.server;

/**
 * An acknowledgement that will never come (the socket disconnected first), or that came back
 * with an error from the client.
 *
 * <pre>{@code
 * socket.timeout(Duration.ofSeconds(5)).emitWithAck("save", doc)
 *       .whenComplete((reply, error) -> { if (error != null) retryLater(doc); });
 * }</pre>
 */
public final class AckFailedException extends RuntimeException {
    public AckFailedException(String message) {
        super(message, null, false, false);
    }
}
