package dev.switchboard.deployment;

import dev.switchboard.demo.DemoApp;
import dev.switchboard.demo.EchoApp;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The deployment scenario on the standalone Grizzly/Tyrus server with the demo, in this JVM. */
class StandaloneScenarioTest extends DeploymentScenario {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(switchboard -> {
            DemoApp.install(switchboard);
            EchoApp.install(switchboard);
        });
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Override
    protected Site site() {
        return new Site(server.port(), "");
    }

    /** Tyrus accepts unmasked client frames (RFC 6455 says 1002); recorded in docs/RELIABILITY.md. */
    @Override
    protected Set<Integer> unmaskedFrameCodes() {
        return Set.of(1002, RawTcp.STILL_OPEN);
    }
}
