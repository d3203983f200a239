package dev.switchboard.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.switchboard.demo.ChatMember;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RedisServer;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The demo as a cluster of two nodes on one Redis, each started as docs/DEPLOY.md says: the built
 * WAR in Tomcat, with Lettuce and what it brings in the container's {@code lib} and {@code
 * demo.redis} a system property of the container's JVM; and {@code switchboard-standalone.jar}
 * with {@code -Ddemo.redis}. Users on the two chat as on one server.
 */
class ClusterWarIT {
    private static final String SERVER_XML = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Server port="-1" shutdown="SHUTDOWN">
              <Service name="Catalina">
                <Connector address="127.0.0.1" port="%d" protocol="HTTP/1.1"/>
                <Engine name="Catalina" defaultHost="localhost">
                  <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="false"/>
                </Engine>
              </Service>
            </Server>
            """;
    /** The jars docs/DEPLOY.md names for a WAR that joins a cluster, by the start of their names. */
    private static final List<String> CLUSTER_JARS =
            List.of("lettuce-core-", "netty-", "reactor-core-", "reactive-streams-", "redis-authx-core-", "slf4j-api-");
    /** The build's runtime classpath (see pom.xml, {@code bench-webapp-libs}). */
    private static final Path RUNTIME_CLASSPATH = Path.of("target/bench/webapp-libs.txt");

    private static RedisServer redis;
    private static ServerProcess tomcat;
    private static ServerProcess standalone;
    private static DeploymentScenario.Site war;
    private static DeploymentScenario.Site jar;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        String joinRedis = "-Ddemo.redis=" + redis.uri();

        war = new DeploymentScenario.Site(ServerProcess.freePort(), "/myapp");
        Path base = TomcatIT.freshBase("tomcat-cluster", SERVER_XML.formatted(war.port()));
        for (Path library : clusterJars()) {
            Files.copy(library, base.resolve("lib").resolve(library.getFileName()));
        }
        List<String> flags = new ArrayList<>(DeploymentScenario.testFlags());
        flags.add(joinRedis);
        tomcat = TomcatIT.run(base, flags, war);

        jar = new DeploymentScenario.Site(ServerProcess.freePort(), "");
        Path dir = ServerProcess.freshDirectory("standalone-cluster");
        List<String> command = new ArrayList<>(List.of(ServerProcess.java(), joinRedis));
        command.addAll(List.of("-jar", ServerProcess.buildPath("switchboard.standaloneJar").toString(),
                "--host", "127.0.0.1", "--port", Integer.toString(jar.port()),
                "--webapp", Path.of("webapp").toAbsolutePath().toString()));
        standalone = ServerProcess.start(command, dir, Map.of(), dir.resolve("console.log"), jar.http("/"));
    }

    private static List<Path> clusterJars() throws IOException {
        List<Path> jars = Arrays.stream(Files.readString(RUNTIME_CLASSPATH).trim().split(File.pathSeparator))
                .map(Path::of)
                .filter(path -> CLUSTER_JARS.stream().anyMatch(path.getFileName().toString()::startsWith))
                .toList();
        assertFalse(jars.isEmpty(), "no Lettuce in " + RUNTIME_CLASSPATH);
        return jars;
    }

    @AfterAll
    static void stop() {
        DeploymentScenario.stopGracefully(tomcat, war);
        DeploymentScenario.stopGracefully(standalone, jar);
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void usersOnTheWarInTomcatAndOnTheStandaloneJarChatAsOnOneServer() {
        try (RawClient una = ChatMember.join(RawClient.connect(war.webSocket()), "una", "browser-una", 1);
             RawClient val = ChatMember.join(RawClient.connect(jar.webSocket()), "val", "browser-val", 2)) {
            val.send("{\"type\":\"event\",\"nsp\":\"/chat\",\"event\":\"private\",\"args\":[\"una\",\"psst\"],\"ack\":3}");
            assertEquals("[{}]", ChatMember.ack(val, 3), tomcat.logTail());
            ChatMember.event(una, "private", "\"psst\"");

            una.send("{\"type\":\"event\",\"nsp\":\"/chat\",\"event\":\"message\",\"args\":[\"hello\"],\"ack\":4}");
            ChatMember.event(val, "message", "\"text\":\"hello\"");
        }
    }
}
