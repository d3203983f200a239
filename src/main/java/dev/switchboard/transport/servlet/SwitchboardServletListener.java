package dev.switchboard.transport.servlet;

import dev.switchboard.http.HttpApi;
import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.engineio.EngineIo;
import dev.switchboard.transport.jsr356.SocketIoEndpoint;
import dev.switchboard.transport.jsr356.SwitchboardEndpoint;
import dev.switchboard.transport.jsr356.SwitchboardRegistry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletRegistration;
import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerContainer;
import java.util.EnumSet;

/**
 * Serves a {@link Switchboard} from a web application in any Jakarta EE 11 servlet container
 * (Tomcat 11, Jetty 12 ee11): it starts with the application and shuts down gracefully with it.
 * The WebSocket endpoint is at {@code <context path>/switchboard}; Socket.IO clients connect at
 * {@code <context path>/socket.io/} (or the server's {@code socketIoPath}), over WebSocket or long-polling.
 *
 * <pre>{@code
 * @WebListener
 * public class ChatStartup extends SwitchboardServletListener {
 *     @Override
 *     protected Switchboard createSwitchboard(ServletContext context) {
 *         Switchboard server = Switchboard.create();
 *         server.onConnection(socket -> socket.on("chat", event -> server.emit("chat", event.args().raw(0))));
 *         return server;
 *     }
 * }
 * }</pre>
 *
 * <p>The HTTP API ({@link HttpApi}) and {@code /metrics} are served where the context parameters
 * {@code switchboard.api.keys} and {@code switchboard.metrics} ask for them (docs/DEPLOY.md).
 * Where a subclass does not fit, call {@link #install} and {@link #installHttpApi} at startup and
 * {@link #uninstall} at shutdown yourself.
 */
public abstract class SwitchboardServletListener implements ServletContextListener {
    /** Tomcat's default size of each session's text (in characters) and binary message buffers. */
    private static final int TOMCAT_DEFAULT_MESSAGE_BUFFER = 8 * 1024;
    /** What Switchboard's endpoints need of them: they take messages in parts of any size. */
    private static final int TOMCAT_MESSAGE_BUFFER = 1024;

    /** Set at startup, read at shutdown: the container calls both on one thread, in order. */
    private Switchboard server;
    /** As {@code server}; null without an API key. */
    private HttpApi api;

    /** Builds the application's server, with its namespaces and handlers, before it is installed. */
    protected abstract Switchboard createSwitchboard(ServletContext context);

    /**
     * The HTTP API's settings: by default from the web application's context parameters
     * ({@link HttpApiSettings#from}); with no key, the API and {@code /metrics} are off.
     */
    protected HttpApiSettings httpApiSettings(ServletContext context) {
        return HttpApiSettings.from(context::getInitParameter);
    }

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        server = createSwitchboard(context);
        install(context, server);
        HttpApiSettings settings = httpApiSettings(context);
        if (settings.enabled()) {
            api = installHttpApi(context, server, settings);
        }
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        if (api != null) {
            api.close();
            api = null;
        }
        if (server != null) {
            uninstall(server);
            server = null;
        }
    }

    /**
     * Serves the HTTP API of {@code server} under {@code settings.path()}, and {@code /metrics}
     * where the settings ask for it, in this web application. Close what it returns at shutdown.
     */
    public static HttpApi installHttpApi(ServletContext context, Switchboard server, HttpApiSettings settings) {
        HttpApi api = HttpApi.create(server, settings);
        HttpApiServlet.register(context, api);
        return api;
    }

    /**
     * Serves {@code server} in this web application: registers it for the endpoint, which the
     * container deploys by itself from its {@code @ServerEndpoint} annotation, adds the Socket.IO
     * endpoint and long-polling servlet at its {@code socketIoPath}, and puts a filter in
     * front of it that answers upgrades from a foreign Origin with 403 (and malformed ones with 400
     * or 426) and passes the client's address on; the server is the context attribute named
     * {@code Switchboard.class.getName()}, for the application's servlets. Call it while the application starts (from a
     * {@code ServletContextListener} or {@code ServletContainerInitializer}), once. Where the
     * container's annotation scanning is off, also add {@code SwitchboardEndpoint.class} to its
     * {@link ServerContainer}, once.
     *
     * @throws IllegalStateException when the container has no Jakarta WebSocket support enabled
     */
    public static void install(ServletContext context, Switchboard server) {
        String socketIoPath = server.options().socketIoPath();
        ServerContainer container = (ServerContainer) context.getAttribute(ServerContainer.class.getName());
        if (container == null) {
            throw new IllegalStateException("no Jakarta WebSocket server in this web application"
                    + " (on Jetty, enable the ee11-websocket-jakarta module)");
        }
        sizeTomcatMessageBuffers(container);
        FilterRegistration.Dynamic filter = context.addFilter(UpgradeGuard.class.getName(), new UpgradeGuard(server));
        if (filter == null) {
            throw new IllegalStateException("Switchboard is installed in this web application already");
        }
        filter.setAsyncSupported(true);
        // isMatchAfter=false: ahead of the container's upgrade filter (Tomcat's WsFilter, Jetty's
        // WebSocketUpgradeFilter), which would otherwise upgrade the request before we see it.
        filter.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, SwitchboardEndpoint.PATH,
                socketIoPath);
        ServletRegistration.Dynamic polling = context.addServlet(EngineIoServlet.class.getName(), new EngineIoServlet(server));
        polling.setAsyncSupported(true);
        polling.addMapping(socketIoPath + "*");
        try {
            container.addEndpoint(SocketIoEndpoint.config(server));
        } catch (DeploymentException e) {
            throw new IllegalStateException("cannot deploy the Socket.IO endpoint at " + socketIoPath, e);
        }
        SwitchboardRegistry.register(server);
        // The application's own servlets emit through it: context.getAttribute(Switchboard.class.getName()).
        context.setAttribute(Switchboard.class.getName(), server);
    }

    /**
     * Tomcat gives every session a text buffer of 8 K characters and a binary one of 8 KiB, made
     * when the session opens, before an endpoint could size them, and kept for its life: 24 KB of
     * each idle connection. Switchboard's endpoints take messages in parts, whatever the buffer, so
     * on Tomcat the application's defaults shrink to 1 KiB where they are still Tomcat's own. An
     * endpoint of the application's own that takes whole messages gets them only up to that size;
     * it sets its own buffer sizes, or the application sets the container's defaults after this.
     * (On Jetty these sizes cap whole messages instead, so they stay as they are there.)
     */
    private static void sizeTomcatMessageBuffers(ServerContainer container) {
        if (!container.getClass().getName().startsWith("org.apache.tomcat.")) {
            return;
        }
        if (container.getDefaultMaxTextMessageBufferSize() == TOMCAT_DEFAULT_MESSAGE_BUFFER) {
            container.setDefaultMaxTextMessageBufferSize(TOMCAT_MESSAGE_BUFFER);
        }
        if (container.getDefaultMaxBinaryMessageBufferSize() == TOMCAT_DEFAULT_MESSAGE_BUFFER) {
            container.setDefaultMaxBinaryMessageBufferSize(TOMCAT_MESSAGE_BUFFER);
        }
    }

    /**
     * Shuts {@code server} down gracefully (clients get 1001 and reconnect elsewhere or later;
     * it waits up to the server's shutdown grace) and unregisters it. It returns once the threads
     * that close connections have ended, which the container would otherwise report as leaked.
     */
    public static void uninstall(Switchboard server) {
        try {
            server.close();
            SwitchboardEndpoint.awaitClosing(server.options().shutdownGrace());
        } finally {
            EngineIo.release(server);
            SwitchboardRegistry.unregister(server);
        }
    }
}
