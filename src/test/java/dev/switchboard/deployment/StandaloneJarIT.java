package dev.switchboard.deployment;

import dev.switchboard.testing.RawTcp;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The deployment scenario on the built {@code switchboard-standalone.jar}, run with {@code java -jar}. */
class StandaloneJarIT extends DeploymentScenario {
    private static ServerProcess server;
    private static Site site;

    @BeforeAll
    static void start() throws Exception {
        Path jar = ServerProcess.buildPath("switchboard.standaloneJar");
        Path dir = ServerProcess.freshDirectory("standalone");
        site = new Site(ServerProcess.freePort(), "");
        server = ServerProcess.start(List.of(ServerProcess.java(), "-jar", jar.toString(), "--host", "127.0.0.1",
                        "--port", Integer.toString(site.port()), "--webapp", Path.of("webapp").toAbsolutePath().toString()),
                dir, Map.of(), dir.resolve("console.log"), site.http("/"));
    }

    @AfterAll
    static void stop() {
        stopGracefully(server, site);
    }

    @Override
    protected Site site() {
        return site;
    }

    @Override
    protected Optional<Path> log() {
        return Optional.of(server.log());
    }

    /** Tyrus accepts unmasked client frames (RFC 6455 says 1002); recorded in docs/RELIABILITY.md. */
    @Override
    protected Set<Integer> unmaskedFrameCodes() {
        return Set.of(1002, RawTcp.STILL_OPEN);
    }
}
