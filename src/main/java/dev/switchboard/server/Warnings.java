package dev.switchboard.server;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Warnings a client can set off at will (a listener that throws on its payload, middleware that
 * fails on its auth), logged so that it cannot flood the server's disk: the first of a kind with
 * its stack trace, then only counted; {@link #summarise()}, which the server runs once a minute,
 * logs one line per kind that came again.
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
    /** How often the server summarises. */
    static final Duration SUMMARY_PERIOD = Duration.ofMinutes(1);
    /** Kinds remembered; past this, new kinds share one, so the map stays bounded. */
    private static final int MAX_KINDS = 1000;
    private static final String OTHER_KINDS = "warnings of more kinds than are counted apart";
    private static final int MAX_DETAIL_CHARS = 200;

    private final Map<String, Kind> kinds = new ConcurrentHashMap<>();

    /** One kind: where its summaries go, and what came since the last one. */
    private static final class Kind {
        private final System.Logger log;
        private final AtomicLong unlogged = new AtomicLong();
        private volatile String latest;

        Kind(System.Logger log) {
            this.log = log;
        }
    }

    /**
     * Logs {@code message} at WARNING with {@code error}'s stack trace if this kind is new; else
     * counts it for the next summary.
     *
     * @param error the failure, or {@code null}
     */
    void warn(System.Logger log, String message, Throwable error) {
        warn(log, message, null, error);
    }

    /**
     * As {@link #warn(System.Logger, String, Throwable)}, with {@code detail} (which socket, which
     * event) logged with this failure but kept out of its kind: details may carry what clients chose.
     *
     * @param detail the particulars of this failure, or {@code null}
     */
    void warn(System.Logger log, String message, String detail, Throwable error) {
        String particulars = detail == null ? "" : " (" + abbreviate(detail) + ")";
        String key = error == null ? message : message + " (" + error.getClass().getName() + ")";
        if (kinds.size() >= MAX_KINDS && !kinds.containsKey(key)) {
            key = OTHER_KINDS;
        }
        boolean[] isNew = {false};
        Kind kind = kinds.computeIfAbsent(key, k -> {
            isNew[0] = true;
            return new Kind(log);
        });
        if (isNew[0]) {
            log.log(System.Logger.Level.WARNING, message + particulars
                    + " (more of this kind are counted and summarised once a minute)", error);
            return;
        }
        kind.latest = (error == null ? message : abbreviate(error.toString())) + particulars;
        kind.unlogged.incrementAndGet();
    }

    /** Logs one line for each kind that came again since the last summary: how often, and the latest. */
    void summarise() {
        kinds.forEach((key, kind) -> {
            long count = kind.unlogged.getAndSet(0);
            if (count > 0) {
                kind.log.log(System.Logger.Level.WARNING, key + ": " + count + " more since the last summary; the latest: "
                        + kind.latest);
            }
        });
    }

    private static String abbreviate(String text) {
        // One line, whatever a client put in the exception's message.
        String line = text.replace('\n', ' ').replace('\r', ' ');
        return line.length() <= MAX_DETAIL_CHARS ? line : line.substring(0, MAX_DETAIL_CHARS) + "...";
    }
}
