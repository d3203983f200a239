package dev.switchboard.client;

/**
 * The server's event rate limit, as a client keeps to it: a token bucket refilled at the rate
 * the server announced in {@code hello}, holding half the announced burst. The other half stays
 * in reserve at the server for frames that the network delays and then delivers together. Not
 * thread-safe; used under the client's lock.
 */
final class SendPace {
    private final double perNano;
    private final double burst;
    private double tokens;
    private long lastRefill;

    SendPace(double perSecond, long serverBurst, long nowNanos) {
        this.perNano = perSecond / 1e9;
        this.burst = Math.max(1, serverBurst / 2);
        this.tokens = burst;
        this.lastRefill = nowNanos;
    }

    /** Takes a token if there is one. */
    boolean tryTake(long nowNanos) {
        tokens = Math.min(burst, tokens + (nowNanos - lastRefill) * perNano);
        lastRefill = nowNanos;
        if (tokens < 1) {
            return false;
        }
        tokens -= 1;
        return true;
    }

    /** How long until the next token, after a {@link #tryTake} that found none. */
    long millisUntilNext() {
        return (long) Math.ceil((1 - tokens) / perNano / 1e6);
    }
}
