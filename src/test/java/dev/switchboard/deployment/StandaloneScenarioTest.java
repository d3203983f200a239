package dev.switchboard.deployment;

import dev.switchboard.demo.DemoApp;
import dev.switchboard.demo.EchoApp;
import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The deployment scenario on the standalone Grizzly/Tyrus server with the demo, in this JVM. */
class StandaloneScenarioTest extends TyrusScenario {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(TestServer.options().pingInterval(PING_INTERVAL).pingTimeout(PING_TIMEOUT)
                .maxConnections(SwitchboardOptions.defaults().maxConnections(), MAX_CONNECTIONS_PER_ADDRESS).build(), sb -> {
                    DemoApp.install(sb);
                    EchoApp.install(sb);
                }, HttpApiSettings.off().withKeys(API_KEYS).withMetrics(true));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Override
    protected Site site() {
        return new Site(server.port(), "");
    }
}
