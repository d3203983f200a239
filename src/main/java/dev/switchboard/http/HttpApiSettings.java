package dev.switchboard.http;

import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * How the HTTP API and {@code /metrics} are served. With no key both are off. Each
 * {@code with…} method returns a copy with that setting changed.
 *
 * <pre>{@code
 * HttpApiSettings settings = HttpApiSettings.off().withKeys(List.of(System.getenv("SWITCHBOARD_API_KEY")))
 *         .withMetrics(true);
 * }</pre>
 *
 * @param keys              the keys a request may carry ({@code Authorization: apikey <key>}); several, so that one can be rotated out
 * @param path              where the API answers, e.g. {@code /api} for {@code /api/emit}
 * @param metrics           whether {@code GET /metrics} answers (with the same keys)
 * @param maxBodyBytes      the largest request body; past it, 413
 * @param requestsPerSecond each key's sustained rate; past it (and the burst), 429
 * @param burst             how many requests a key may make at once
 * @param maxAckWaitMillis  the longest {@code ack.timeoutMs} an emit may ask for
 * @param clock             the clock of the rate limit
 */
public record HttpApiSettings(List<String> keys, String path, boolean metrics, int maxBodyBytes, int requestsPerSecond,
                              int burst, long maxAckWaitMillis, Clock clock) {
    /** The names of the settings {@link #from} reads: WAR context parameters, or system properties. */
    public static final String KEYS = "switchboard.api.keys";
    public static final String PATH = "switchboard.api.path";
    public static final String METRICS = "switchboard.metrics";
    public static final String MAX_BODY_BYTES = "switchboard.api.maxBodyBytes";
    public static final String REQUESTS_PER_SECOND = "switchboard.api.requestsPerSecond";

    public HttpApiSettings {
        keys = List.copyOf(keys);
        if (keys.stream().anyMatch(String::isBlank)) {
            throw new IllegalArgumentException("an API key may not be blank");
        }
        if (!path.startsWith("/") || path.endsWith("/")) {
            throw new IllegalArgumentException("the API path must start with '/' and not end with it: " + path);
        }
        if (maxBodyBytes <= 0 || requestsPerSecond <= 0 || burst <= 0 || maxAckWaitMillis <= 0) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }

    /** No keys: nothing served. The defaults: {@code /api}, no metrics, 1 MiB bodies, 50 requests a second with bursts of 100, acks awaited up to a minute. */
    public static HttpApiSettings off() {
        return new HttpApiSettings(List.of(), "/api", false, 1 << 20, 50, 100, 60_000, Clock.systemUTC());
    }

    /**
     * The settings named by {@link #KEYS} (comma-separated), {@link #PATH}, {@link #METRICS}
     * ({@code true} or {@code false}), {@link #MAX_BODY_BYTES} and {@link #REQUESTS_PER_SECOND},
     * as {@code lookup} finds them (null where unset), over the defaults of {@link #off()}.
     *
     * <pre>{@code
     * HttpApiSettings settings = HttpApiSettings.from(servletContext::getInitParameter);
     * }</pre>
     */
    public static HttpApiSettings from(Function<String, String> lookup) {
        HttpApiSettings defaults = off();
        String keys = lookup.apply(KEYS);
        String path = lookup.apply(PATH);
        String maxBody = lookup.apply(MAX_BODY_BYTES);
        String rate = lookup.apply(REQUESTS_PER_SECOND);
        int requestsPerSecond = rate == null ? defaults.requestsPerSecond() : Integer.parseInt(rate.trim());
        return new HttpApiSettings(keys == null ? List.of() : splitKeys(keys),
                path == null ? defaults.path() : path.trim(), Boolean.parseBoolean(lookup.apply(METRICS)),
                maxBody == null ? defaults.maxBodyBytes() : Integer.parseInt(maxBody.trim()),
                requestsPerSecond, rate == null ? defaults.burst() : 2 * requestsPerSecond,
                defaults.maxAckWaitMillis(), defaults.clock());
    }

    /** Keys from a comma-separated list. */
    public static List<String> splitKeys(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(key -> !key.isEmpty()).toList();
    }

    /** Whether anything is served: a key is configured. */
    public boolean enabled() {
        return !keys.isEmpty();
    }

    /** These settings with other keys: any of them is accepted, so one can be rotated out. */
    public HttpApiSettings withKeys(List<String> newKeys) {
        return new HttpApiSettings(newKeys, path, metrics, maxBodyBytes, requestsPerSecond, burst, maxAckWaitMillis, clock);
    }

    /** These settings with the API under another path. */
    public HttpApiSettings withPath(String newPath) {
        return new HttpApiSettings(keys, newPath, metrics, maxBodyBytes, requestsPerSecond, burst, maxAckWaitMillis, clock);
    }

    /** These settings with {@code /metrics} served or not. */
    public HttpApiSettings withMetrics(boolean serveMetrics) {
        return new HttpApiSettings(keys, path, serveMetrics, maxBodyBytes, requestsPerSecond, burst, maxAckWaitMillis, clock);
    }

    /** These settings with another bound on a request's body. */
    public HttpApiSettings withMaxBodyBytes(int bytes) {
        return new HttpApiSettings(keys, path, metrics, bytes, requestsPerSecond, burst, maxAckWaitMillis, clock);
    }

    /** These settings with another rate of requests per key: so many a second, bursts of so many. */
    public HttpApiSettings withRateLimit(int perSecond, int burstSize) {
        return new HttpApiSettings(keys, path, metrics, maxBodyBytes, perSecond, burstSize, maxAckWaitMillis, clock);
    }

    /** These settings with another time source for the rate limit; a test injects its own. */
    public HttpApiSettings withClock(Clock newClock) {
        return new HttpApiSettings(keys, path, metrics, maxBodyBytes, requestsPerSecond, burst, maxAckWaitMillis, newClock);
    }
}
