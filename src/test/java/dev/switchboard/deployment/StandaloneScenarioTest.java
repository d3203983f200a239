package dev.switchboard.deployment;

import dev.switchboard.demo.EchoApp;
import dev.switchboard.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The deployment scenario on the standalone Grizzly/Tyrus server, in this JVM. */
class StandaloneScenarioTest extends DeploymentScenario {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(EchoApp::install);
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
