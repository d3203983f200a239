package dev.switchboard.server;

import dev.switchboard.adapter.ClusterStatus;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The figures of one {@link Switchboard} on this node: counters, cheap to update from any thread,
 * and the gauges read from the server when asked. The dashboard page and {@code GET /metrics}
 * both read these, so they always agree.
 *
 * <pre>{@code
 * long dropped = server.metrics().droppedVolatile();
 * long waiting = server.metrics().queuedBytes();
 * }</pre>
 */
public final class Metrics {
    private final Switchboard switchboard;
    final LongAdder eventsIn = new LongAdder();
    final LongAdder framesOut = new LongAdder();
    final LongAdder unhandledEvents = new LongAdder();
    final LongAdder droppedVolatile = new LongAdder();
    final LongAdder protocolErrors = new LongAdder();
    final LongAdder rateLimited = new LongAdder();
    final LongAdder slowConsumers = new LongAdder();
    final LongAdder unknownAcks = new LongAdder();
    final LongAdder oversizedMessages = new LongAdder();
    final LongAdder rejectedOrigins = new LongAdder();
    final LongAdder recoveries = new LongAdder();
    final LongAdder refusedConnections = new LongAdder();
    final LongAdder refusedUnavailable = new LongAdder();
    final LongAdder listenerFailures = new LongAdder();
    final LongAdder eventsOut = new LongAdder();
    final LongAdder bytesIn = new LongAdder();
    final LongAdder bytesOut = new LongAdder();
    final LongAdder handlerTimeouts = new LongAdder();
    final LongAdder ackTimeouts = new LongAdder();
    final LongAdder failedRecoveries = new LongAdder();
    /** By {@code ProtocolException} code: a closed set of a few keys. */
    private final Map<String, LongAdder> protocolErrorsByCode = new ConcurrentHashMap<>();

    Metrics(Switchboard switchboard) {
        this.switchboard = switchboard;
    }

    /** Events received from clients and handed to the application (or found no listener). */
    public long eventsIn() {
        return eventsIn.sum();
    }

    /** Events the application emitted: one per emit, however many sockets it reaches. */
    public long eventsOut() {
        return eventsOut.sum();
    }

    /** Frames queued to clients: each emitted event once per recipient, and the control frames. */
    public long framesOut() {
        return framesOut.sum();
    }

    /** Events that had no listener. */
    public long unhandledEvents() {
        return unhandledEvents.sum();
    }

    /** Volatile frames dropped because their recipient was behind. */
    public long droppedVolatile() {
        return droppedVolatile.sum();
    }

    /** Frames refused as malformed. */
    public long protocolErrors() {
        return protocolErrors.sum();
    }

    /** Frames refused, by the error code the client was told ({@code bad_packet}, {@code rate_limited}, ...). */
    public Map<String, Long> protocolErrorsByCode() {
        Map<String, Long> counts = new TreeMap<>();
        protocolErrorsByCode.forEach((code, count) -> counts.put(code, count.sum()));
        return counts;
    }

    /** UTF-8 bytes of the text messages received from clients. */
    public long bytesIn() {
        return bytesIn.sum();
    }

    /** UTF-8 bytes of the frames queued to clients. */
    public long bytesOut() {
        return bytesOut.sum();
    }

    /** Events refused by the rate limit. */
    public long rateLimited() {
        return rateLimited.sum();
    }

    /** Connections evicted as slow consumers. */
    public long slowConsumers() {
        return slowConsumers.sum();
    }

    /** Acks from clients that matched nothing pending. */
    public long unknownAcks() {
        return unknownAcks.sum();
    }

    /** Messages refused for size. */
    public long oversizedMessages() {
        return oversizedMessages.sum();
    }

    /** WebSocket upgrades and Socket.IO long-polling requests refused for their Origin. */
    public long rejectedOrigins() {
        return rejectedOrigins.sum();
    }

    /**
     * Connections refused by a connection cap: {@code maxConnections} and its share per address,
     * and on the standalone server the caps of connections not upgraded yet (one dropped to make
     * room counts too).
     */
    public long refusedConnections() {
        return refusedConnections.sum();
    }

    /** Connections refused (1013, try again later) while this node could not reach its cluster. */
    public long refusedUnavailable() {
        return refusedUnavailable.sum();
    }

    /** The cluster as this node sees it: node count, the link to the shared store, publish latency and failures. */
    public ClusterStatus cluster() {
        return switchboard.clusterStatus();
    }

    /** Sessions recovered by a returning client. */
    public long recoveries() {
        return recoveries.sum();
    }

    /**
     * Returning clients that found their session gone, expired or no longer covering what they
     * missed, or whose recovery middleware refused (the session then ends).
     */
    public long failedRecoveries() {
        return failedRecoveries.sum();
    }

    /** Events whose listeners ran past the handler timeout (the client was told that its event failed). */
    public long handlerTimeouts() {
        return handlerTimeouts.sum();
    }

    /** Emits with an ack, to one socket or a broadcast, that some recipient did not answer in time. */
    public long ackTimeouts() {
        return ackTimeouts.sum();
    }

    /**
     * Application callbacks that threw: middleware, connection, event, catch-all, outgoing,
     * disconnect and session-expiry listeners, and what acks hand their answers to.
     */
    public long listenerFailures() {
        return listenerFailures.sum();
    }

    /** Counts an upgrade or a long-polling request refused for its Origin (called by transports). */
    public void countRejectedOrigin() {
        rejectedOrigins.increment();
    }

    /** Counts a connection dropped at a cap of the transport's own (called by transports). */
    public void countRefusedConnection() {
        refusedConnections.increment();
    }

    /** Open connections on this node. */
    public int connections() {
        return switchboard.connectionCount();
    }

    /** Connections on this node by wire format and transport ({@link Connection#wire()}), in name order. */
    public Map<String, Integer> connectionsByWire() {
        Map<String, Integer> byWire = new TreeMap<>();
        for (Connection connection : switchboard.connections()) {
            byWire.merge(connection.wire(), 1, Integer::sum);
        }
        return byWire;
    }

    /** Sockets connected to this node, by namespace name, in name order. */
    public Map<String, Integer> socketsByNamespace() {
        Map<String, Integer> sockets = new TreeMap<>();
        switchboard.namespaces().forEach((name, namespace) -> sockets.put(name, namespace.sockets().size()));
        return sockets;
    }

    /** Dropped sessions on this node waiting for their client to come back. */
    public int sessionsAwaitingRecovery() {
        return switchboard.namespaces().values().stream().mapToInt(namespace -> namespace.detachedSessions().size()).sum();
    }

    /** Bytes waiting in all send queues. */
    public long queuedBytes() {
        return switchboard.sendBudget().queuedBytes();
    }

    /** Bytes waiting in the fullest send queue. */
    public long largestQueueBytes() {
        long largest = 0;
        for (Connection connection : switchboard.connections()) {
            largest = Math.max(largest, connection.queuedBytes());
        }
        return largest;
    }

    void countProtocolError(String code) {
        protocolErrors.increment();
        protocolErrorsByCode.computeIfAbsent(code, any -> new LongAdder()).increment();
    }

    /** A received message of {@code bytes} in UTF-8. */
    void countReceived(long bytes) {
        bytesIn.add(bytes);
    }
}
