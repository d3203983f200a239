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
    private int refusedInARow;

    EventRateLimit(Clock clock, double perSecond, int burst) {
        this.clock = clock;
        this.perMilli = perSecond / 1000.0;
        this.burst = burst;
        this.tokens = burst;
        this.lastRefill = clock.millis();
    }

    /** Takes a token if there is one. */
    boolean tryAcquire() {
        long now = clock.millis();
        tokens = Math.min(burst, tokens + (now - lastRefill) * perMilli);
        lastRefill = now;
        if (tokens >= 1) {
            tokens -= 1;
            refusedInARow = 0;
            return true;
        }
        refusedInARow++;
        return false;
    }

    /** A flood: more refusals in a row than the burst allows. */
    boolean flooding() {
        return refusedInARow > burst;
    }
}
