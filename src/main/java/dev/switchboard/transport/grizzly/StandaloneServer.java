package dev.switchboard.transport.grizzly;

import dev.switchboard.server.Switchboard;
import dev.switchboard.transport.engineio.EngineIo;
import dev.switchboard.transport.jsr356.SocketIoEndpoint;
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
 * Tyrus for the WebSocket endpoints at {@code /switchboard} and {@code /socket.io/} (Socket.IO clients).
 *
 * <pre>{@code
 * Switchboard server = Switchboard.create();
 * try (StandaloneServer http = StandaloneServer.start(server, "0.0.0.0", 8080, Path.of("webapp"))) {
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

    private StandaloneServer(Switchboard switchboard, HttpServer http, TyrusContainer container, NetworkListener listener) {
        this.switchboard = switchboard;
        this.http = http;
        this.container = container;
        this.listener = listener;
    }

    /**
     * Starts serving {@code switchboard}; other standalone servers in the same JVM serve their own.
     *
     * @param host    the address to bind, e.g. {@code "127.0.0.1"} or {@code "0.0.0.0"}
     * @param port    the port, 0 for any free one
     * @param webRoot a folder of static files served at {@code /}, or {@code null} for none
     */
    public static StandaloneServer start(Switchboard switchboard, String host, int port, Path webRoot) {
        HttpServer http = new HttpServer();
        NetworkListener listener = new NetworkListener("switchboard", host, port);
        listener.getTransport().setIOStrategy(WorkerThreadIOStrategy.getInstance());
        // WebSockets stay open for hours; the heartbeat, not an HTTP idle timer, decides when one is dead.
        listener.getKeepAlive().setIdleTimeoutInSeconds(-1);
        http.addListener(listener);
        // Tyrus buffers a whole frame before our assembler sees it: room for one maximal message.
        TyrusContainer container = new TyrusContainer(
                Set.of(SwitchboardEndpoint.class, SocketIoEndpoint.class), switchboard.options().maxPayloadBytes() + 1024);
        listener.registerAddOn(new UpgradeGuard(switchboard));
        listener.registerAddOn(container.addOn());
        http.getServerConfiguration().addHttpHandler(new EngineIoHttpHandler(switchboard), SocketIoEndpoint.PATH);
        if (webRoot != null) {
            StaticHttpHandler files = new StaticHttpHandler(webRoot.toAbsolutePath().toString());
            files.setFileCacheEnabled(false);
            http.getServerConfiguration().addHttpHandler(files, "/");
        }
        // The endpoint deployed here serves this server, even with others in the same JVM.
        SwitchboardRegistry.deployOnThisThread(switchboard);
        try {
            http.start();
            container.start("", listener.getPort());
        } catch (IOException e) {
            http.shutdownNow();
            throw new UncheckedIOException(e);
        } catch (DeploymentException e) {
            http.shutdownNow();
            throw new IllegalStateException(e);
        } finally {
            SwitchboardRegistry.deployOnThisThread(null);
        }
        return new StandaloneServer(switchboard, http, container, listener);
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
        EngineIo.release(switchboard);
    }
}
