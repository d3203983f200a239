package dev.switchboard.server;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Warnings a client can set off at will (a listener that throws on its payload, middleware that
 * fails on its auth), logged so that it cannot flood the server's disk: the first of a kind with
 * its stack trace, then only counted, with one summary line a minute at most while they go on.
 *
 * <pre>{@code
 * switchboard.warnings().warn(LOG, "listener of 'burst' on /echo failed", error);
 * }</pre>
 *
 * <p>A kind is the message with the exception's class, so a second kind of failure in the same
 * place still shows its stack once. Messages must not carry what clients choose freely (payloads,
 * arbitrary event names): they name kinds, and kinds are kept.
 */
final class Warnings {
    /** At most one summary line per kind in this time. */
    static final Duration SUMMARY_PERIOD = Duration.ofMinutes(1);
    /** Kinds remembered; past this, new kinds share one, so the map stays bounded. */
    private static final int MAX_KINDS = 1000;
    private static final String OTHER_KINDS = "warnings of more kinds than are counted apart";
    private static final int MAX_DETAIL_CHARS = 200;

    private final Clock clock;
    private final Map<String, Kind> kinds = new ConcurrentHashMap<>();

    Warnings(Clock clock) {
        this.clock = clock;
    }

    /** Occurrences of one kind since its last line; guarded by itself. */
    private static final class Kind {
        private long sinceMillis;
        private long unlogged;
        private String latest;

        Kind(long sinceMillis) {
            this.sinceMillis = sinceMillis;
        }
    }

    /**
     * Logs {@code message} at WARNING with {@code error}'s stack trace if this kind is new; else
     * counts it, and logs how many there were once the summary period has passed.
     *
     * @param error the failure, or {@code null}
     */
    void warn(System.Logger log, String message, Throwable error) {
        String key = error == null ? message : message + " (" + error.getClass().getName() + ")";
        long now = clock.millis();
        if (kinds.size() >= MAX_KINDS && !kinds.containsKey(key)) {
            key = OTHER_KINDS;
        }
        boolean[] isNew = {false};
        Kind kind = kinds.computeIfAbsent(key, k -> {
            isNew[0] = true;
            return new Kind(now);
        });
        if (isNew[0]) {
            log.log(System.Logger.Level.WARNING, message + " (more of this kind are counted, and summarised once a "
                    + "minute at most)", error);
            return;
        }
        String summary;
        synchronized (kind) {
            kind.unlogged++;
            kind.latest = error == null ? message : abbreviate(error.toString());
            if (now - kind.sinceMillis < SUMMARY_PERIOD.toMillis()) {
                return;
            }
            summary = key + ": " + kind.unlogged + " more in the last " + (now - kind.sinceMillis) / 1000
                    + " s; the latest: " + kind.latest;
            kind.unlogged = 0;
            kind.sinceMillis = now;
        }
        log.log(System.Logger.Level.WARNING, summary);
    }

    private static String abbreviate(String text) {
        // One line, whatever a client put in the exception's message.
        String line = text.replace('\n', ' ').replace('\r', ' ');
        return line.length() <= MAX_DETAIL_CHARS ? line : line.substring(0, MAX_DETAIL_CHARS) + "...";
    }
}
