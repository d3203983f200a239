package dev.switchboard.server;

import dev.switchboard.protocol.Arguments;
import java.util.List;

/**
 * An acknowledgement did not arrive in time. For a broadcast it carries the replies that did.
 *
 * <pre>{@code
 * namespace.timeout(Duration.ofSeconds(2)).emitWithAck("vote").exceptionally(error -> {
 *     if (error.getCause() instanceof AckTimeoutException late) use(late.partialReplies());
 *     return List.of();
 * });
 * }</pre>
 */
public final class AckTimeoutException extends RuntimeException {
    private final transient List<Arguments> partialReplies;

    public AckTimeoutException(String message, List<Arguments> partialReplies) {
        super(message, null, false, false);
        this.partialReplies = List.copyOf(partialReplies);
    }

    /** The replies that arrived before the timeout (broadcasts only). */
    public List<Arguments> partialReplies() {
        return partialReplies;
    }
}
