package dev.switchboard.server;

import dev.switchboard.protocol.Arguments;
import java.util.List;
import java.util.Set;

/**
 * An acknowledgement did not arrive in time. For a broadcast it carries the replies that did.
 *
 * <pre>{@code
 * namespace.timeout(Duration.ofSeconds(2)).emitWithAck("vote").exceptionally(error -> {
 *     Throwable cause = error instanceof CompletionException ? error.getCause() : error;
 *     if (cause instanceof AckTimeoutException late) use(late.partialReplies());
 *     return List.of();
 * });
 * }</pre>
 */
public final class AckTimeoutException extends RuntimeException {
    private final transient List<Arguments> partialReplies;
    private final Set<String> silentNodes;

    public AckTimeoutException(String message, List<Arguments> partialReplies) {
        this(message, partialReplies, Set.of());
    }

    /** A broadcast across a cluster, where {@code silentNodes} never said how many recipients they reached. */
    public AckTimeoutException(String message, List<Arguments> partialReplies, Set<String> silentNodes) {
        super(message, null, false, false);
        this.partialReplies = List.copyOf(partialReplies);
        this.silentNodes = Set.copyOf(silentNodes);
    }

    /** The replies that arrived before the timeout (broadcasts only). */
    public List<Arguments> partialReplies() {
        return partialReplies;
    }

    /** On a cluster, the nodes that had not counted their recipients by the timeout; else empty. */
    public Set<String> silentNodes() {
        return silentNodes;
    }
}
