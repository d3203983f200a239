package dev.switchboard.server;

import java.util.function.Supplier;

/**
 * The one boundary through which the server calls the application's code: middleware,
 * connection, event, {@code onAny}, {@code onAnyOutgoing}, disconnect and session-expiry
 * listeners, and whatever an ack hands its answer to. A callback that throws never reaches the
 * reading thread, the container or the rest of a broadcast: its failure is logged through
 * {@link Warnings}, counted in {@link Metrics#listenerFailures()}, and the caller gives the
 * client the answer that fits (an error ack for an event, {@code connect_error} for middleware).
 */
final class Hooks {
    private static final System.Logger LOG = System.getLogger(Hooks.class.getName());

    /** The application's code, which may throw anything. */
    @FunctionalInterface
    interface Call {
        void run() throws Exception;
    }

    private final Warnings warnings;
    private final Metrics metrics;

    Hooks(Warnings warnings, Metrics metrics) {
        this.warnings = warnings;
        this.metrics = metrics;
    }

    /**
     * Runs one callback.
     *
     * @param kind     what failed, the same for every failure of this hook, e.g. "disconnect listener
     *                 on /chat failed": never what a client chose, which would make a kind per client.
     *                 Built only on a failure: these calls sit on the path of every event and delivery
     * @param socketId the socket it ran for, logged with the failure but not in its kind
     * @param event    the event's name, likewise, or {@code null}
     * @return whether it returned normally
     */
    boolean run(Supplier<String> kind, String socketId, String event, Call call) {
        return failure(kind, socketId, event, call) == null;
    }

    /**
     * Runs a listener of {@code event}; if it throws, the event fails: the client's ack, when it
     * asked for one, carries the error.
     *
     * @return whether it returned normally (the event's later listeners then run)
     */
    boolean runListener(Supplier<String> kind, Event event, Call call) {
        Throwable failure = failure(kind, event.socket().id(), event.name(), call);
        if (failure != null) {
            event.fail("listener failed: " + failure);
        }
        return failure == null;
    }

    private Throwable failure(Supplier<String> kind, String socketId, String event, Call call) {
        try {
            call.run();
            return null;
        } catch (Exception | LinkageError e) {
            metrics.listenerFailures.increment();
            warnings.warn(LOG, kind.get(), "socket " + socketId + (event == null ? "" : ", event '" + event + "'"), e);
            return e;
        }
    }
}
