package dev.switchboard.deployment;

import dev.switchboard.transport.WebSocketLayerContract;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The deployment scenario on the built WAR in a Jetty 12 distribution (ee11): a jetty.base of its
 * own under target/it with the http, ee11-deploy and ee11-websocket-jakarta modules, the WAR
 * dropped into its webapps as {@code myapp.war} beside {@link OwnWar}, started with
 * {@code java -jar start.jar}. Here frames go out through Jetty's WebSocket connection as UTF-8 encoded
 * once per broadcast ({@code JettyCoreSend}); the inherited cases (a client that stops reading is
 * cut off, a concurrent burst arrives whole and in order) run on that path.
 */
class JettyIT extends WarScenario {
    /** The http module's {@code jetty.http.idleTimeout}, which docs/DEPLOY.md recommends keeping. */
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);
    private static ServerProcess jetty;
    private static Site site;

    @BeforeAll
    static void deploy() throws Exception {
        Path home = ServerProcess.buildPath("jetty.home");
        Path base = ServerProcess.freshDirectory("jetty");
        String startJar = home.resolve("start.jar").toString();
        ServerProcess.run(List.of(ServerProcess.java(), "-jar", startJar, "jetty.home=" + home, "jetty.base=" + base,
                "--add-modules=http,ee11-deploy,ee11-websocket-jakarta,graceful"), base, base.resolve("add-modules.log"));
        Files.createDirectories(base.resolve("webapps"));
        Files.copy(ServerProcess.buildPath("switchboard.war"), base.resolve("webapps/myapp.war"));
        OwnWar.writeInto(base.resolve("webapps"));
        site = new Site(ServerProcess.freePort(), "/myapp");
        // Without --exec, start.jar runs Jetty in its own JVM, which has the test flags.
        List<String> command = new ArrayList<>(List.of(ServerProcess.java()));
        command.addAll(testFlags());
        command.addAll(List.of("-jar", startJar, "jetty.home=" + home, "jetty.base=" + base,
                "jetty.http.host=127.0.0.1", "jetty.http.port=" + site.port(),
                "jetty.http.idleTimeout=" + IDLE_TIMEOUT.toMillis()));
        jetty = ServerProcess.start(command, base, Map.of(), base.resolve("console.log"), site.http("/"));
    }

    @AfterAll
    static void stop() {
        stopGracefully(jetty, site);
    }

    @Override
    protected String directPathInUse() {
        return "Jetty core session found";
    }

    @Override
    protected Site site() {
        return site;
    }

    @Override
    protected Optional<ServerProcess> process() {
        return Optional.of(jetty);
    }

    @Override
    protected Duration connectionTimeout() {
        return IDLE_TIMEOUT;
    }

    /** Jetty refuses a frame over its limit at once and answers header blocks over 8 KiB with 431. */
    @Override
    protected WebSocketLayerContract.Answers webSocketLayerAnswers() {
        return new WebSocketLayerContract.Answers("close 1009", "close 1002", "431", List.of("101", "400"));
    }
}
