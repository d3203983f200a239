package dev.switchboard.server;

import java.time.Clock;

/**
 * A token bucket: {@code perSecond} events sustained, {@code burst} at once. Used by the one
 * thread that reads a connection; not thread-safe.
 */
final class EventRateLimit {
    private final Clock clock;
    private final double perMilli;
    private final int burst;
    private double tokens;
    private long lastRefill;
    private long windowStart;
    private int refusedInWindow;

    EventRateLimit(Clock clock, double perSecond, int burst) {
        this.clock = clock;
        this.perMilli = perSecond / 1000.0;
        this.burst = burst;
        this.tokens = burst;
        this.lastRefill = clock.millis();
        this.windowStart = lastRefill;
    }

    /** Takes a token if there is one. */
    boolean tryAcquire() {
        long now = clock.millis();
        tokens = Math.min(burst, tokens + (now - lastRefill) * perMilli);
        lastRefill = now;
        if (now - windowStart >= 1000) {
            windowStart = now;
            refusedInWindow = 0;
        }
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        refusedInWindow++;
        return false;
    }

    /**
     * A flood: more events refused within one second than the burst allows. Counting per second,
     * not in a row, so a client that ignores the refusals cannot stay connected by pacing itself
     * just above the refill rate.
     */
    boolean flooding() {
        return refusedInWindow > burst;
    }
}
