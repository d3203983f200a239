package dev.switchboard.transport.grizzly;

import dev.switchboard.transport.Inbox;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.Grizzly;
import org.glassfish.grizzly.IOEvent;
import org.glassfish.grizzly.attributes.Attribute;

/**
 * An upgraded connection's {@link Inbox} on the standalone server: what its selector thread read
 * and unframed runs on a worker of Grizzly's pool, one piece at a time and in order ({@link SplitReads}).
 *
 * <p>Bounded: once more than {@link #PAUSE_AT} of input waits, the connection is no longer read,
 * so a client that sends faster than its listeners run fills its own TCP window instead of the
 * server's heap; it is read again once the waiting input is down to {@link #RESUME_AT}. Fair: a
 * worker runs at most {@link #BATCH} pieces of one connection before the others' turn.
 *
 * <p>Threads: {@code lock} guards {@code waiting}, {@code size}, {@code running} and
 * {@code paused}. The thread reading the connection submits; one worker at a time runs.
 */
final class WorkerInbox implements Inbox {
    /** Input waiting, in chars or bytes, at which reading stops: 64 pieces of 1 KiB. */
    static final int PAUSE_AT = 64 * 1024;
    static final int RESUME_AT = PAUSE_AT / 2;
    /** Pieces a worker runs before it lets other connections' work go first. */
    static final int BATCH = 16;

    private static final System.Logger LOG = System.getLogger(WorkerInbox.class.getName());
    private static final Attribute<WorkerInbox> ATTACHED =
            Grizzly.DEFAULT_ATTRIBUTE_BUILDER.createAttribute(WorkerInbox.class.getName());

    private final Connection<?> connection;
    private final Executor workers;
    private final Object lock = new Object();
    private final ArrayDeque<Piece> waiting = new ArrayDeque<>();
    private int size;
    /** Whether a worker runs this inbox or is about to: then submitting starts none. */
    private boolean running;
    private boolean paused;

    private WorkerInbox(Connection<?> connection, Executor workers) {
        this.connection = connection;
        this.workers = workers;
    }

    /** Gives {@code connection} an inbox on its transport's workers. */
    static WorkerInbox attach(Connection<?> connection) {
        WorkerInbox inbox = new WorkerInbox(connection, connection.getTransport().getWorkerThreadPool());
        ATTACHED.set(connection, inbox);
        return inbox;
    }

    /** Whether {@code connection}'s endpoint hands its work to an inbox, so that reading it on a selector thread is safe. */
    static boolean isAttached(Connection<?> connection) {
        return ATTACHED.isSet(connection);
    }

    /** {@code connection}'s inbox, or null when its endpoint has none. */
    static WorkerInbox of(Connection<?> connection) {
        return ATTACHED.get(connection);
    }

    private record Piece(int size, Runnable work) {
    }

    @Override
    public void submit(int size, Runnable work) {
        boolean start;
        synchronized (lock) {
            waiting.add(new Piece(size, work));
            this.size += size;
            if (this.size > PAUSE_AT) {
                // Again on every piece over the bound: the read of the upgrade, on a worker, ends
                // by watching the connection again whatever happened during it.
                paused = true;
                watchReads(false);
            }
            start = !running;
            running = true;
        }
        if (start) {
            start();
        }
    }

    private void start() {
        try {
            workers.execute(this::run);
        } catch (RejectedExecutionException e) {
            // The server is stopping: what the client sent still gets its answer or its error.
            run();
        }
    }

    private void run() {
        Piece next;
        synchronized (lock) {
            next = waiting.poll();
            running = next != null;
        }
        boolean more = false;
        for (int ran = 1; next != null; ran++) {
            try {
                next.work().run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "handling a client's input failed", e);
            }
            synchronized (lock) {
                size -= next.size();
                if (paused && size <= RESUME_AT) {
                    paused = false;
                    watchReads(true);
                }
                next = ran < BATCH ? waiting.poll() : null;
                more = next == null && !waiting.isEmpty();
                running = next != null || more;
            }
        }
        if (more) {
            // Still running: the rest goes behind the other connections' work.
            start();
        }
    }

    /** Called with {@code lock} held, so that a resume never overtakes the pause it ends. */
    private void watchReads(boolean on) {
        try {
            if (on) {
                connection.enableIOEvent(IOEvent.READ);
            } else {
                connection.disableIOEvent(IOEvent.READ);
            }
        } catch (IOException e) {
            // The connection is gone: its close is on its way through this inbox.
            LOG.log(System.Logger.Level.DEBUG, "cannot change reading a closed connection", e);
        }
    }
}
