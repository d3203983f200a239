package dev.switchboard.deployment;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The deployment scenario on the built {@code switchboard-standalone.jar}, run with {@code java -jar}. */
class StandaloneJarIT extends TyrusScenario {
    private static ServerProcess server;
    private static Site site;

    @BeforeAll
    static void start() throws Exception {
        Path jar = ServerProcess.buildPath("switchboard.standaloneJar");
        Path dir = ServerProcess.freshDirectory("standalone");
        site = new Site(ServerProcess.freePort(), "");
        List<String> command = new ArrayList<>(List.of(ServerProcess.java()));
        command.addAll(testFlags());
        command.addAll(List.of("-jar", jar.toString(), "--host", "127.0.0.1", "--port", Integer.toString(site.port()),
                "--webapp", Path.of("webapp").toAbsolutePath().toString()));
        server = ServerProcess.start(command, dir, Map.of(), dir.resolve("console.log"), site.http("/"));
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
    protected Optional<ServerProcess> process() {
        return Optional.of(server);
    }
}
