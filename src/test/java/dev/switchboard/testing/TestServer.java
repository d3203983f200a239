package dev.switchboard.testing;

import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.server.Switchboard;
import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.transport.grizzly.StandaloneServer;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

/** A real Switchboard on the standalone Grizzly server, on a free loopback port. */
public final class TestServer implements AutoCloseable {
    private final Switchboard switchboard;
    private final StandaloneServer http;

    private TestServer(Switchboard switchboard, StandaloneServer http) {
        this.switchboard = switchboard;
        this.http = http;
    }

    /** Defaults made test-friendly: short shutdown grace so teardown is quick. */
    public static SwitchboardOptions.Builder options() {
        return SwitchboardOptions.builder().shutdownGrace(Duration.ofSeconds(2));
    }

    public static TestServer start(Consumer<Switchboard> app) {
        return start(options().build(), app);
    }

    public static TestServer start(SwitchboardOptions options, Consumer<Switchboard> app) {
        return start(options, app, 0);
    }

    /** On a given port, e.g. to restart a server where its clients expect it. */
    public static TestServer start(SwitchboardOptions options, Consumer<Switchboard> app, int port) {
        return start(options, app, port, HttpApiSettings.off());
    }

    /** With the HTTP API (and {@code /metrics}, where the settings say) on. */
    public static TestServer start(SwitchboardOptions options, Consumer<Switchboard> app, HttpApiSettings api) {
        return start(options, app, 0, api);
    }

    private static TestServer start(SwitchboardOptions options, Consumer<Switchboard> app, int port, HttpApiSettings api) {
        Switchboard switchboard = Switchboard.create(options);
        app.accept(switchboard);
        return new TestServer(switchboard, StandaloneServer.start(switchboard, "127.0.0.1", port, Path.of("webapp"), api));
    }

    public Switchboard switchboard() {
        return switchboard;
    }

    public URI webSocketUri() {
        return http.webSocketUri();
    }

    public URI httpUri() {
        return http.httpUri();
    }

    public int port() {
        return http.port();
    }

    /** A protocol-level client, connected and past its hello. */
    public RawClient raw() {
        return RawClient.connect(webSocketUri());
    }

    @Override
    public void close() {
        http.close();
    }
}
