package dev.switchboard.transport.grizzly;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.glassfish.grizzly.CloseListener;
import org.glassfish.grizzly.Closeable;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.ICloseType;

/**
 * The connections this server upgraded to WebSocket whose TCP connection is still open; the
 * server's end waits for them before it stops its transport.
 *
 * <p>Why: Tyrus answers an upgrade with 101 before it opens the endpoint, so a client can hold an
 * open WebSocket that is not yet one of the Switchboard's connections. A drain or shutdown that
 * begins in between neither lists nor waits for it; its endpoint then opens, is refused and sent
 * its close frame (1012 or 1001), and stopping the transport at once would cut that frame off:
 * the client saw 1006 instead of 1012 after a SIGTERM. Tyrus ends the TCP connection once its
 * close frame is written, so an empty set means every close frame is on its way. (A connection
 * whose upgrade Tyrus itself refuses, a malformed handshake, stays HTTP and is waited for until
 * its client closes it or the shutdown grace ends: it cannot be told apart while Tyrus opens the
 * endpoint, which is the window that matters.)
 *
 * <pre>{@code
 * webSockets.upgraded(connection);                  // as the upgrade goes ahead
 * webSockets.awaitClosed(Duration.ofSeconds(5));    // before the transport stops
 * }</pre>
 *
 * <p>Thread-safe: upgrades on worker threads, closes on any thread, the wait on the closing one.
 */
final class OpenWebSockets {
    private static final long POLL_MILLIS = 10;

    private final Set<Connection<?>> open = ConcurrentHashMap.newKeySet();

    /** {@code connection} is a WebSocket from now on, until its TCP connection closes. */
    void upgraded(Connection<?> connection) {
        open.add(connection);
        connection.addCloseListener((CloseListener<Closeable, ICloseType>) (closed, type) -> open.remove(closed));
        if (!connection.isOpen()) {
            // Closed before the listener was added: it may never be told.
            open.remove(connection);
        }
    }

    /** Waits until no upgraded connection is open, or for {@code within} at most. */
    void awaitClosed(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        try {
            while (!open.isEmpty() && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
