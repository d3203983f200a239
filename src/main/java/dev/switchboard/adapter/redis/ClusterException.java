package dev.switchboard.adapter.redis;

import dev.switchboard.adapter.AdapterUnavailableException;
import java.util.Set;

/**
 * A call across the cluster failed: Redis did not take an emit within the publish timeout, or
 * nodes did not answer a query in time ({@link #silentNodes()} names them).
 *
 * <pre>{@code
 * chat.fetchSockets().exceptionally(e -> { log(e); return List.of(); });
 * }</pre>
 */
public final class ClusterException extends AdapterUnavailableException {
    private final Set<String> silentNodes;

    ClusterException(String message, Set<String> silentNodes, Throwable cause) {
        super(message, cause);
        this.silentNodes = Set.copyOf(silentNodes);
    }

    /** The nodes that did not answer in time; empty when Redis itself was the problem. */
    public Set<String> silentNodes() {
        return silentNodes;
    }
}
