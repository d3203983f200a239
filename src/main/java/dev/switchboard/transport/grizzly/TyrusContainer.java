package dev.switchboard.transport.grizzly;

import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerEndpointConfig;
import java.lang.reflect.Constructor;
import java.util.Set;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.glassfish.grizzly.http.server.AddOn;
import org.glassfish.tyrus.container.grizzly.server.WebSocketAddOn;
import org.glassfish.tyrus.core.TyrusWebSocketEngine;
import org.glassfish.tyrus.server.TyrusServerContainer;
import org.glassfish.tyrus.spi.WebSocketEngine;

/**
 * Tyrus's server container for annotated endpoints, mounted as an add-on on a Grizzly listener that
 * the caller configures (bind address, I/O strategy, static files, add-ons that must see the
 * upgrade first). {@link StandaloneServer} uses it for Switchboard's endpoint; anything else that
 * wants plain JSR 356 endpoints on such a listener can too.
 *
 * <pre>{@code
 * TyrusContainer container = new TyrusContainer(Set.of(MyEndpoint.class), 64 * 1024);
 * listener.registerAddOn(container.addOn());
 * httpServer.start();
 * container.start("", listener.getPort());
 * }</pre>
 *
 * <p>Sessions have no idle timeout by default: the default is {@link #NEVER}, not Tyrus's 0. Tyrus
 * 2.2 restarts a session's idle timer on every message it reads or sends, and with the timeout
 * off (0) it does so by scheduling a task due at once that does nothing: a thread of its timer
 * pool woken for every message (a context switch each, two with the reader it preempts on a
 * busy core). A timer that never falls due is not queued at all: its cancel and its restart, on
 * every message, then take no lock and touch no queue. A session given a timeout of its own gets
 * a real timer, and a cancelled one leaves the queue at once.
 */
public final class TyrusContainer extends TyrusServerContainer {
    /** An idle timeout that never falls due, in milliseconds: the sessions' default here. */
    public static final long NEVER = Long.MAX_VALUE;

    private final TyrusWebSocketEngine engine;
    /** The sessions' idle timers (Tyrus's only use of it); thread-safe. */
    private final IdleTimers idleTimers = new IdleTimers();

    /**
     * @param endpoints          annotated {@code @ServerEndpoint} classes, deployed at the root context
     * @param incomingBufferSize the largest frame Tyrus buffers before handing it on, in bytes
     */
    public TyrusContainer(Set<Class<?>> endpoints, int incomingBufferSize) {
        super(endpoints);
        engine = TyrusWebSocketEngine.builder(this).incomingBufferSize(incomingBufferSize).build();
        setDefaultMaxSessionIdleTimeout(NEVER);
    }

    @Override
    public ScheduledExecutorService getScheduledExecutorService() {
        return idleTimers;
    }

    /** The idle timers pending: none while every session's timeout is {@link #NEVER}. */
    int pendingIdleTimers() {
        return idleTimers.getQueue().size();
    }

    /** The idle timers that ran; none while every session's timeout is {@link #NEVER}. */
    long idleTimersRun() {
        return idleTimers.getCompletedTaskCount();
    }

    @Override
    public void stop() {
        super.stop();
        idleTimers.shutdownNow();
    }

    /**
     * The add-on to register on the listener: Tyrus's own, whose constructor is not public in Tyrus
     * 2.2 yet is the only way to put Tyrus on a Grizzly listener we configure ourselves, with the
     * upgrade's HTTP request let go once Tyrus owns the connection ({@link UpgradeRelease}).
     */
    public AddOn addOn() {
        try {
            Constructor<WebSocketAddOn> constructor = WebSocketAddOn.class
                    .getDeclaredConstructor(org.glassfish.tyrus.spi.ServerContainer.class, String.class);
            constructor.setAccessible(true);
            return new UpgradeRelease(constructor.newInstance(this, ""));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("unsupported Tyrus version", e);
        }
    }

    @Override
    public void register(Class<?> endpointClass) throws DeploymentException {
        engine.register(endpointClass, "");
    }

    @Override
    public void register(ServerEndpointConfig config) throws DeploymentException {
        engine.register(config, "");
    }

    @Override
    public WebSocketEngine getWebSocketEngine() {
        return engine;
    }

    /** Tyrus's timer pool: one thread, which sleeps while every timeout is {@link #NEVER}. */
    private static final class IdleTimers extends ScheduledThreadPoolExecutor {
        IdleTimers() {
            super(1, runnable -> {
                Thread thread = new Thread(runnable, "tyrus-idle-timers");
                thread.setDaemon(true);
                return thread;
            });
            setRemoveOnCancelPolicy(true);
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            return unit.toMillis(delay) >= NEVER ? new NeverDue() : super.schedule(command, delay, unit);
        }
    }

    /**
     * A timer that never falls due, so never runs: it ends only by being cancelled, which Tyrus does
     * on every message, so cancelling only marks it (a {@code CompletableFuture} would make a
     * {@code CancellationException}, stack trace and all, each time). Tyrus never waits for it.
     */
    private static final class NeverDue implements ScheduledFuture<Object> {
        private volatile boolean cancelled;

        @Override
        public long getDelay(TimeUnit unit) {
            return Long.MAX_VALUE;
        }

        @Override
        public int compareTo(Delayed other) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            cancelled = true;
            return true;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public boolean isDone() {
            return cancelled;
        }

        @Override
        public Object get() {
            throw new UnsupportedOperationException("an idle timer is not waited for");
        }

        @Override
        public Object get(long timeout, TimeUnit unit) {
            throw new UnsupportedOperationException("an idle timer is not waited for");
        }
    }
}
