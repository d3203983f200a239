package dev.switchboard.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The configured keys, each with a rate limit of its own. A presented key is compared with
 * every configured one, through their SHA-256 digests, in constant time: neither its length nor
 * how much of it matches shows in the time the check takes.
 */
final class ApiKeys {
    private static final String SCHEME = "apikey ";

    private final List<byte[]> digests = new ArrayList<>();
    private final List<Bucket> buckets = new ArrayList<>();

    ApiKeys(HttpApiSettings settings) {
        for (String key : settings.keys()) {
            digests.add(digest(key));
            buckets.add(new Bucket(settings.clock(), settings.requestsPerSecond(), settings.burst()));
        }
    }

    /** The index of the key an {@code Authorization} header carries, or -1. */
    int match(String authorization) {
        boolean wellFormed = authorization != null && authorization.length() > SCHEME.length()
                && authorization.substring(0, SCHEME.length()).toLowerCase(Locale.ROOT).equals(SCHEME);
        byte[] presented = digest(wellFormed ? authorization.substring(SCHEME.length()).trim() : "");
        int found = -1;
        for (int i = 0; i < digests.size(); i++) {
            if (MessageDigest.isEqual(digests.get(i), presented) && wellFormed) {
                found = i;
            }
        }
        return found;
    }

    /** Takes one request from key {@code index}'s allowance; false when it is spent. */
    boolean tryAcquire(int index) {
        return buckets.get(index).tryAcquire();
    }

    private static byte[] digest(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** A token bucket; its fields are guarded by {@code this}, any request thread takes from it. */
    private static final class Bucket {
        private final Clock clock;
        private final double perMilli;
        private final int capacity;
        private double tokens;
        private long lastMillis;

        Bucket(Clock clock, int perSecond, int capacity) {
            this.clock = clock;
            this.perMilli = perSecond / 1000.0;
            this.capacity = capacity;
            this.tokens = capacity;
            this.lastMillis = clock.millis();
        }

        synchronized boolean tryAcquire() {
            long now = clock.millis();
            tokens = Math.min(capacity, tokens + Math.max(0, now - lastMillis) * perMilli);
            lastMillis = now;
            if (tokens < 1) {
                return false;
            }
            tokens -= 1;
            return true;
        }
    }
}
