package dev.switchboard.transport.jsr356;

import dev.switchboard.server.Switchboard;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Where startup code leaves the application's {@link Switchboard} for the endpoint: the container
 * creates {@link SwitchboardEndpoint} instances itself, one per connection, and they find their
 * server here. One server per class loader, so one per web application, unless a deployment
 * binds its own (see {@link #deployOnThisThread}).
 *
 * <pre>{@code
 * SwitchboardRegistry.register(server);   // in a ServletContextListener
 * }</pre>
 */
public final class SwitchboardRegistry {
    private static final AtomicReference<Switchboard> CURRENT = new AtomicReference<>();
    private static final ThreadLocal<Switchboard> DEPLOYING = new ThreadLocal<>();

    private SwitchboardRegistry() {
    }

    /** Makes {@code server} the one new connections reach. */
    public static void register(Switchboard server) {
        CURRENT.set(server);
    }

    /** Removes {@code server} if it is the registered one. */
    public static void unregister(Switchboard server) {
        CURRENT.compareAndSet(server, null);
    }

    /**
     * Binds the endpoints that a container deploys on this thread from now on to {@code server},
     * whatever is registered; {@code null} ends that. For a server that starts its own container
     * (the standalone server), so that several in one JVM each serve their own Switchboard.
     */
    public static void deployOnThisThread(Switchboard server) {
        if (server == null) {
            DEPLOYING.remove();
        } else {
            DEPLOYING.set(server);
        }
    }

    /** The server a deployment under way on this thread binds its endpoints to, or {@code null}. */
    static Switchboard deploying() {
        return DEPLOYING.get();
    }

    /**
     * The registered server.
     *
     * @throws IllegalStateException when none is registered yet
     */
    public static Switchboard require() {
        Switchboard server = CURRENT.get();
        if (server == null) {
            throw new IllegalStateException("no Switchboard registered: call SwitchboardRegistry.register(server) at startup");
        }
        return server;
    }
}
