package dev.switchboard.client;

import java.time.Duration;

/**
 * Fails the future of {@link ClientSocket#emitWithAck} when no acknowledgement came in time
 * (with retries, after the last resend).
 *
 * <pre>{@code
 * socket.timeout(Duration.ofSeconds(2)).emitWithAck("save", doc)
 *       .exceptionally(error -> {
 *           if (error instanceof AckTimeoutException) {
 *               showOffline();
 *           }
 *           return null;
 *       });
 * }</pre>
 */
public final class AckTimeoutException extends RuntimeException {
    private final String event;
    private final transient Duration timeout;

    public AckTimeoutException(String event, Duration timeout) {
        this(event, timeout, "no acknowledgement for event '" + event + "' within " + timeout.toMillis() + " ms");
    }

    AckTimeoutException(String event, Duration timeout, String message) {
        super(message);
        this.event = event;
        this.timeout = timeout;
    }

    /** The event that went unanswered. */
    public String event() {
        return event;
    }

    /** How long the client waited (for each send, with retries). */
    public Duration timeout() {
        return timeout;
    }
}
