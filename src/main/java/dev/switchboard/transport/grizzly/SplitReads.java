package dev.switchboard.transport.grizzly;

import java.io.IOException;
import java.util.concurrent.Executor;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.IOEvent;
import org.glassfish.grizzly.IOStrategy;
import org.glassfish.grizzly.Transport;
import org.glassfish.grizzly.strategies.SameThreadIOStrategy;
import org.glassfish.grizzly.strategies.WorkerThreadIOStrategy;
import org.glassfish.grizzly.threadpool.ThreadPoolConfig;

/**
 * The standalone server's I/O strategy. A WebSocket whose endpoint hands its work to a
 * {@link WorkerInbox} is read, unmasked and unframed on its selector thread, and its listeners run
 * on a worker; every other connection (HTTP requests, upgrades under way, Engine.IO's long-polling)
 * is read on a worker, as Grizzly's {@link WorkerThreadIOStrategy} does.
 *
 * <p>Why: handing each read to a worker means taking the connection out of the selector's
 * interest set and putting it back afterwards, which wakes the selector again. On a busy core
 * that cost about five context switches per incoming message (docs/BENCHMARKS.md, "The cost of
 * each incoming message"); a selector that keeps reading and a worker woken once cost two. Reading
 * every connection on its selector thread would cost one, but would let a listener that blocks (a
 * database call, a recovery waiting for Redis) hold up every connection of its selector.
 */
final class SplitReads implements IOStrategy {
    @Override
    public boolean executeIoEvent(Connection connection, IOEvent ioEvent) throws IOException {
        return executeIoEvent(connection, ioEvent, true);
    }

    @Override
    public boolean executeIoEvent(Connection connection, IOEvent ioEvent, boolean isIoEventEnabled) throws IOException {
        return strategyFor(connection).executeIoEvent(connection, ioEvent, isIoEventEnabled);
    }

    @Override
    public Executor getThreadPoolFor(Connection connection, IOEvent ioEvent) {
        return strategyFor(connection).getThreadPoolFor(connection, ioEvent);
    }

    @Override
    public ThreadPoolConfig createDefaultWorkerPoolConfig(Transport transport) {
        return WorkerThreadIOStrategy.getInstance().createDefaultWorkerPoolConfig(transport);
    }

    private static IOStrategy strategyFor(Connection<?> connection) {
        return UpgradeRelease.isWebSocket(connection) && WorkerInbox.isAttached(connection)
                ? SameThreadIOStrategy.getInstance() : WorkerThreadIOStrategy.getInstance();
    }
}
