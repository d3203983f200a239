package dev.switchboard.transport.grizzly;

import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerEndpointConfig;
import java.lang.reflect.Constructor;
import java.util.Set;
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
 */
public final class TyrusContainer extends TyrusServerContainer {
    private final TyrusWebSocketEngine engine;

    /**
     * @param endpoints          annotated {@code @ServerEndpoint} classes, deployed at the root context
     * @param incomingBufferSize the largest frame Tyrus buffers before handing it on, in bytes
     */
    public TyrusContainer(Set<Class<?>> endpoints, int incomingBufferSize) {
        super(endpoints);
        engine = TyrusWebSocketEngine.builder(this).incomingBufferSize(incomingBufferSize).build();
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
}
