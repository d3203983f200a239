package dev.switchboard.transport.grizzly;

import dev.switchboard.http.HttpApi;
import dev.switchboard.protocol.DisconnectReason;
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
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.glassfish.grizzly.http.server.HttpServer;
import org.glassfish.grizzly.http.server.NetworkListener;
import org.glassfish.grizzly.http.server.StaticHttpHandler;
import org.glassfish.grizzly.ssl.SSLEngineConfigurator;

/**
 * Serves a {@link Switchboard} without a servlet container: Grizzly for HTTP and static files,
 * Tyrus for the WebSocket endpoints at {@code /switchboard} and {@code /socket.io/} (Socket.IO
 * clients, with Engine.IO's long-polling beside), TLS when {@link StandaloneOptions#tls()}
 * says, deadlines for connections that have not upgraded ({@link StandaloneOptions}), and the HTTP
 * API and {@code /metrics} ({@link HttpApi}) where a key is configured.
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
    private final PendingConnections pending;
    private final OpenWebSockets webSockets;
    private final ScheduledExecutorService timer;
    /** Null without an API key. */
    private final HttpApi api;

    private StandaloneServer(Switchboard switchboard, HttpServer http, TyrusContainer container, NetworkListener listener,
                             PendingConnections pending, OpenWebSockets webSockets, ScheduledExecutorService timer, HttpApi api) {
        this.switchboard = switchboard;
        this.http = http;
        this.container = container;
        this.listener = listener;
        this.pending = pending;
        this.webSockets = webSockets;
        this.timer = timer;
        this.api = api;
    }

    /**
     * Starts serving {@code switchboard}; other standalone servers in the same JVM serve their own.
     *
     * @param host    the address to bind, e.g. {@code "127.0.0.1"} or {@code "0.0.0.0"}
     * @param port    the port, 0 for any free one
     * @param webRoot a folder of static files served at {@code /}, or {@code null} for none
     */
    public static StandaloneServer start(Switchboard switchboard, String host, int port, Path webRoot) {
        return start(switchboard, StandaloneOptions.builder().host(host).port(port).webRoot(webRoot).build());
    }

    /** Starts serving {@code switchboard} as {@code options} say; other standalone servers in the same JVM serve their own. */
    public static StandaloneServer start(Switchboard switchboard, StandaloneOptions options) {
        HttpServer http = new HttpServer();
        NetworkListener listener = new NetworkListener("switchboard", options.host(), options.port());
        listener.getTransport().setIOStrategy(new SplitReads());
        // WebSockets stay open for hours; the heartbeat, not an HTTP idle timer, decides when one is dead.
        listener.getKeepAlive().setIdleTimeoutInSeconds(-1);
        if (options.tls() != null) {
            SSLEngineConfigurator tls = new SSLEngineConfigurator(options.tls().serverContext(System::nanoTime), false, false, false);
            tls.setEnabledProtocols(TlsIdentity.PROTOCOLS);
            listener.setSecure(true);
            listener.setSSLEngineConfig(tls);
            listener.registerAddOn(new NoRenegotiation());
        }
        http.addListener(listener);
        // Tyrus buffers a whole frame before our assembler sees it: room for one maximal message,
        // plus the slice of bytes that comes in behind a partial one.
        TyrusContainer container = new TyrusContainer(Set.of(SwitchboardEndpoint.class),
                switchboard.options().maxPayloadBytes() + 1024 + UpgradeRelease.Frames.SLICE);
        String socketIoPath = switchboard.options().socketIoPath();
        try {
            container.addEndpoint(SocketIoEndpoint.config(switchboard));
        } catch (DeploymentException e) {
            throw new IllegalStateException("cannot deploy the Socket.IO endpoint at " + socketIoPath, e);
        }
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "switchboard-pending-connections");
            thread.setDaemon(true);
            return thread;
        });
        PendingConnections pending = new PendingConnections(options, switchboard.options().trustedProxies()::trusts,
                switchboard.options()::addressKey, switchboard.metrics()::countRefusedConnection, timer, System::nanoTime);
        if (options.proxyProtocol()) {
            listener.registerAddOn(new ProxyProtocol(switchboard.options().trustedProxies(), pending));
        }
        OpenWebSockets webSockets = new OpenWebSockets();
        listener.registerAddOn(new UpgradeGuard(switchboard, connection -> {
            pending.upgraded(connection);
            webSockets.upgraded(connection);
        }));
        // After the guard, which lets upgrades go, and before Tyrus, which takes them.
        listener.registerAddOn(pending);
        listener.registerAddOn(container.addOn());
        http.getServerConfiguration().addHttpHandler(new EngineIoHttpHandler(switchboard, pending), socketIoPath);
        if (options.webRoot() != null) {
            StaticHttpHandler files = new StaticHttpHandler(options.webRoot().toAbsolutePath().toString());
            files.setFileCacheEnabled(false);
            http.getServerConfiguration().addHttpHandler(files, "/");
        }
        HttpApi api = options.api().enabled() ? HttpApi.create(switchboard, options.api()) : null;
        if (api != null) {
            String[] paths = options.api().metrics() ? new String[] {options.api().path(), "/metrics"} : new String[] {options.api().path()};
            http.getServerConfiguration().addHttpHandler(new HttpApiHandler(api, pending), paths);
        }
        // The endpoint deployed here serves this server, even with others in the same JVM.
        SwitchboardRegistry.deployOnThisThread(switchboard);
        try {
            http.start();
            container.start("", listener.getPort());
        } catch (IOException e) {
            http.shutdownNow();
            timer.shutdownNow();
            closeApi(api);
            EngineIo.release(switchboard);
            throw new UncheckedIOException(e);
        } catch (DeploymentException e) {
            http.shutdownNow();
            timer.shutdownNow();
            closeApi(api);
            EngineIo.release(switchboard);
            throw new IllegalStateException(e);
        } finally {
            SwitchboardRegistry.deployOnThisThread(null);
        }
        return new StandaloneServer(switchboard, http, container, listener, pending, webSockets, timer, api);
    }

    /** The server it serves; its {@link Switchboard#metrics()} count what this transport refused too. */
    public Switchboard switchboard() {
        return switchboard;
    }

    /** Connections open that have not upgraded to WebSocket (requests for files, half-sent upgrades). */
    public int pendingConnections() {
        return pending.count();
    }

    /** The port it listens on. */
    public int port() {
        return listener.getPort();
    }

    /** The page URL, e.g. {@code http://localhost:8080/}, {@code https://} with TLS. */
    public URI httpUri() {
        return URI.create((listener.isSecure() ? "https" : "http") + "://" + displayHost() + ":" + port() + "/");
    }

    /** The WebSocket URL, e.g. {@code ws://localhost:8080/switchboard}, {@code wss://} with TLS. */
    public URI webSocketUri() {
        return URI.create((listener.isSecure() ? "wss" : "ws") + "://" + displayHost() + ":" + port() + SwitchboardEndpoint.PATH);
    }

    private String displayHost() {
        String host = listener.getHost();
        return "0.0.0.0".equals(host) ? "localhost" : host;
    }

    /**
     * Drains the server for a rolling restart ({@link Switchboard#drain}): no new WebSockets
     * (upgrades get 503), open ones closed with 1012 spread over {@code spread}; then, once none
     * is left or at {@code deadline}, the server closes.
     *
     * <pre>{@code
     * http.drain(Duration.ofSeconds(30), Duration.ofSeconds(60)).join();   // then exit
     * }</pre>
     *
     * @return completes when the server is closed, with whether every connection had gone by then
     */
    public CompletableFuture<Boolean> drain(Duration spread, Duration deadline) {
        // Closed on a thread of its own: the drain completes on the server's scheduler, whose
        // shutdown interrupts it, which would cut short every wait of the close.
        return switchboard.drain(spread, deadline).thenApplyAsync(drained -> {
            close();
            return drained;
        }, task -> new Thread(task, "switchboard-drain-close").start());
    }

    /** The WebSocket container, for tests of this package. */
    TyrusContainer container() {
        return container;
    }

    /**
     * Shuts the server down gracefully (clients get 1001), then stops HTTP once every WebSocket's
     * TCP connection has ended and every long-polling client a drain closed has fetched its close,
     * within the shutdown grace in all.
     */
    @Override
    public void close() {
        Duration grace = switchboard.options().shutdownGrace();
        long deadline = System.nanoTime() + grace.toNanos();
        switchboard.shutdown(grace);
        webSockets.awaitClosed(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        // A polling client a drain closed between two GETs learns of it, and gets the events sent
        // before, only on its next GET: HTTP serves on until it came. Not so for the 1001 of the
        // shutdown itself: that client is not sent to another node, and one gone would hold the close.
        EngineIo.of(switchboard).awaitFinalPolls(DisconnectReason.SERVER_RESTARTING.closeCode(),
                Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        container.stop();
        http.shutdownNow();
        timer.shutdownNow();
        closeApi(api);
        EngineIo.release(switchboard);
    }

    private static void closeApi(HttpApi api) {
        if (api != null) {
            api.close();
        }
    }
}
