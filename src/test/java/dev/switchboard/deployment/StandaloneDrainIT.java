package dev.switchboard.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.testing.RawClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SIGTERM to the built jar started with a drain window: every client is told 1012 (server
 * restarting), not 1001, and the process ends.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class StandaloneDrainIT {
    @Test
    void sigtermDrainsTheJarWith1012() throws Exception {
        Path jar = ServerProcess.buildPath("switchboard.standaloneJar");
        Path dir = ServerProcess.freshDirectory("standalone-drain");
        DeploymentScenario.Site site = new DeploymentScenario.Site(ServerProcess.freePort(), "");
        List<String> command = new ArrayList<>(List.of(ServerProcess.java(), "-Ddemo.drainSpread=1", "-jar", jar.toString(),
                "--host", "127.0.0.1", "--port", Integer.toString(site.port()),
                "--webapp", Path.of("webapp").toAbsolutePath().toString()));
        List<RawClient> clients = new ArrayList<>();
        try (ServerProcess server = ServerProcess.start(command, dir, Map.of(), dir.resolve("console.log"), site.http("/"))) {
            for (int i = 0; i < 3; i++) {
                RawClient client = RawClient.connect(site.webSocket());
                clients.add(client);
            }
            server.close();
            for (RawClient client : clients) {
                assertEquals(1012, client.awaitClose(), server.logTail());
            }
        } finally {
            clients.forEach(RawClient::close);
        }
    }
}
