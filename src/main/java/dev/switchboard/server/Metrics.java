package dev.switchboard.server;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one {@link Switchboard}, cheap to update from any thread.
 *
 * <pre>{@code
 * long dropped = server.metrics().droppedVolatile();
 * }</pre>
 */
public final class Metrics {
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
    final LongAdder listenerFailures = new LongAdder();

    /** Events received from clients and handed to the application (or found no listener). */
    public long eventsIn() {
        return eventsIn.sum();
    }

    /** Frames queued to clients. */
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

    /** Upgrades refused for their Origin. */
    public long rejectedOrigins() {
        return rejectedOrigins.sum();
    }

    /** Connections refused by a connection cap. */
    public long refusedConnections() {
        return refusedConnections.sum();
    }

    /** Sessions recovered by a returning client. */
    public long recoveries() {
        return recoveries.sum();
    }

    /**
     * Application callbacks that threw: middleware, connection, event, catch-all, outgoing,
     * disconnect and session-expiry listeners, and what acks hand their answers to.
     */
    public long listenerFailures() {
        return listenerFailures.sum();
    }

    /** Counts an upgrade refused for its Origin (called by transports). */
    public void countRejectedOrigin() {
        rejectedOrigins.increment();
    }
}
