package dev.switchboard.transport.grizzly;

import dev.switchboard.http.HttpApi;
import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.jsr356.SwitchboardEndpoint;
import dev.switchboard.transport.jsr356.SwitchboardRegistry;
import jakarta.websocket.DeploymentException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Set;
import org.glassfish.grizzly.http.server.HttpServer;
import org.glassfish.grizzly.http.server.NetworkListener;
import org.glassfish.grizzly.http.server.StaticHttpHandler;
import org.glassfish.grizzly.strategies.WorkerThreadIOStrategy;

/**
 * Serves a {@link Switchboard} without a servlet container: Grizzly for HTTP and static files,
 * Tyrus for the WebSocket endpoint at {@code /switchboard}, and the HTTP API and {@code /metrics}
 * ({@link HttpApi}) where a key is configured.
 *
 * <pre>{@code
 * Switchboard server = Switchboard.create();
 * HttpApiSettings api = HttpApiSettings.off().withKeys(List.of(key)).withMetrics(true);
 * try (StandaloneServer http = StandaloneServer.start(server, "0.0.0.0", 8080, Path.of("webapp"), api)) {
 *     System.out.println("open " + http.httpUri());
 *     Thread.currentThread().join();
 * }
 * }</pre>
 */
public final class StandaloneServer implements AutoCloseable {
    private final Switchboard switchboard;
    private final HttpServer http;
    private final TyrusContainer container;
    private final NetworkListener listener;
    /** Null without an API key. */
    private final HttpApi api;

    private StandaloneServer(Switchboard switchboard, HttpServer http, TyrusContainer container, NetworkListener listener,
                             HttpApi api) {
        this.switchboard = switchboard;
        this.http = http;
        this.container = container;
        this.listener = listener;
        this.api = api;
    }

    /** As {@link #start(Switchboard, String, int, Path, HttpApiSettings)}, without the HTTP API. */
    public static StandaloneServer start(Switchboard switchboard, String host, int port, Path webRoot) {
        return start(switchboard, host, port, webRoot, HttpApiSettings.off());
    }

    /**
     * Starts serving {@code switchboard}; other standalone servers in the same JVM serve their own.
     *
     * @param host    the address to bind, e.g. {@code "127.0.0.1"} or {@code "0.0.0.0"}
     * @param port    the port, 0 for any free one
     * @param webRoot a folder of static files served at {@code /}, or {@code null} for none
     * @param apiSettings the HTTP API's keys and path, and whether {@code /metrics} answers ({@link HttpApiSettings#off()}: neither)
     */
    public static StandaloneServer start(Switchboard switchboard, String host, int port, Path webRoot,
                                         HttpApiSettings apiSettings) {
        HttpServer http = new HttpServer();
        NetworkListener listener = new NetworkListener("switchboard", host, port);
        listener.getTransport().setIOStrategy(WorkerThreadIOStrategy.getInstance());
        // WebSockets stay open for hours; the heartbeat, not an HTTP idle timer, decides when one is dead.
        listener.getKeepAlive().setIdleTimeoutInSeconds(-1);
        http.addListener(listener);
        // Tyrus buffers a whole frame before our assembler sees it: room for one maximal message.
        TyrusContainer container = new TyrusContainer(
                Set.of(SwitchboardEndpoint.class), switchboard.options().maxPayloadBytes() + 1024);
        listener.registerAddOn(new UpgradeGuard(switchboard));
        listener.registerAddOn(container.addOn());
        if (webRoot != null) {
            StaticHttpHandler files = new StaticHttpHandler(webRoot.toAbsolutePath().toString());
            files.setFileCacheEnabled(false);
            http.getServerConfiguration().addHttpHandler(files, "/");
        }
        HttpApi api = apiSettings.enabled() ? HttpApi.create(switchboard, apiSettings) : null;
        if (api != null) {
            String[] paths = apiSettings.metrics() ? new String[] {apiSettings.path(), "/metrics"} : new String[] {apiSettings.path()};
            http.getServerConfiguration().addHttpHandler(new HttpApiHandler(api), paths);
        }
        // The endpoint deployed here serves this server, even with others in the same JVM.
        SwitchboardRegistry.deployOnThisThread(switchboard);
        try {
            http.start();
            container.start("", listener.getPort());
        } catch (IOException e) {
            http.shutdownNow();
            closeApi(api);
            throw new UncheckedIOException(e);
        } catch (DeploymentException e) {
            http.shutdownNow();
            closeApi(api);
            throw new IllegalStateException(e);
        } finally {
            SwitchboardRegistry.deployOnThisThread(null);
        }
        return new StandaloneServer(switchboard, http, container, listener, api);
    }

    /** The port it listens on. */
    public int port() {
        return listener.getPort();
    }

    /** The page URL, e.g. {@code http://localhost:8080/}. */
    public URI httpUri() {
        return URI.create("http://" + displayHost() + ":" + port() + "/");
    }

    /** The WebSocket URL, e.g. {@code ws://localhost:8080/switchboard}. */
    public URI webSocketUri() {
        return URI.create("ws://" + displayHost() + ":" + port() + SwitchboardEndpoint.PATH);
    }

    private String displayHost() {
        String host = listener.getHost();
        return "0.0.0.0".equals(host) ? "localhost" : host;
    }

    /** Shuts the server down gracefully (clients get 1001), then stops HTTP. */
    @Override
    public void close() {
        switchboard.close();
        container.stop();
        http.shutdownNow();
        closeApi(api);
    }

    private static void closeApi(HttpApi api) {
        if (api != null) {
            api.close();
        }
    }
}
