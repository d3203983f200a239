package dev.switchboard.transport.jsr356;

import dev.switchboard.server.Switchboard;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Where startup code leaves the application's {@link Switchboard} for the endpoint: the container
 * creates {@link SwitchboardEndpoint} instances itself, one per connection, and they find their
 * server here. One server per class loader, so one per web application.
 *
 * <pre>{@code
 * SwitchboardRegistry.register(server);   // in main() or a ServletContextListener
 * }</pre>
 */
public final class SwitchboardRegistry {
    private static final AtomicReference<Switchboard> CURRENT = new AtomicReference<>();

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
