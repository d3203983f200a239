package dev.switchboard.deployment;

import dev.switchboard.client.ClientOptions;
import dev.switchboard.testing.TestCertificates;
import dev.switchboard.transport.WebSocketLayerContract;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The deployment scenario on the built WAR in a Tomcat 11 distribution: a CATALINA_BASE of its
 * own under target/it, the WAR dropped into its webapps as {@code myapp.war} beside {@link OwnWar},
 * started with {@code catalina.sh run}. Here frames are framed once per broadcast and written to
 * Tomcat's socket wrapper ({@code TomcatSocketWrite}); the inherited cases (a client that stops
 * reading is cut off, a concurrent burst arrives whole and in order, binary attachments, framed
 * as binary frames on the same path) run on that path.
 */
class TomcatIT extends WarScenario {
    /** The shipped server.xml's {@code connectionTimeout}, which docs/DEPLOY.md recommends keeping. */
    private static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(20);
    /**
     * Two connectors on loopback, the second with TLS (JSSE, a PKCS#12 keystore); no shutdown port
     * (the process is stopped with a signal).
     */
    private static final String SERVER_XML = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Server port="-1" shutdown="SHUTDOWN">
              <Service name="Catalina">
                <Connector address="127.0.0.1" port="%d" protocol="HTTP/1.1" connectionTimeout="%d"/>
                <Connector address="127.0.0.1" port="%d" protocol="HTTP/1.1" connectionTimeout="%d"
                           SSLEnabled="true" scheme="https" secure="true">
                  <SSLHostConfig>
                    <Certificate certificateKeystoreFile="%s" certificateKeystorePassword="%s"
                                 certificateKeystoreType="PKCS12"/>
                  </SSLHostConfig>
                </Connector>
                <Engine name="Catalina" defaultHost="localhost">
                  <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="false"/>
                </Engine>
              </Service>
            </Server>
            """;

    private static ServerProcess tomcat;
    private static Site site;
    private static TestCertificates certificates;
    private static int tlsPort;

    @BeforeAll
    static void deploy() throws Exception {
        site = new Site(ServerProcess.freePort(), "/myapp");
        certificates = TestCertificates.create();
        TestCertificates.Issued issued = certificates.issue("tomcat");
        tlsPort = ServerProcess.freePort();
        Path base = freshBase("tomcat", SERVER_XML.formatted(site.port(), CONNECTION_TIMEOUT.toMillis(),
                tlsPort, CONNECTION_TIMEOUT.toMillis(), issued.pkcs12(), new String(issued.password())));
        OwnWar.writeInto(base.resolve("webapps"));
        tomcat = run(base, testFlags(), site);
    }

    /**
     * A CATALINA_BASE of its own under target/it: the distribution's configuration but for
     * {@code serverXml}, and the built WAR as {@code myapp.war}.
     */
    static Path freshBase(String name, String serverXml) throws IOException {
        Path home = ServerProcess.buildPath("tomcat.home");
        Path base = ServerProcess.freshDirectory(name);
        for (String dir : List.of("conf", "lib", "logs", "temp", "webapps", "work")) {
            Files.createDirectories(base.resolve(dir));
        }
        for (String file : List.of("web.xml", "context.xml", "catalina.properties", "logging.properties")) {
            Files.copy(home.resolve("conf").resolve(file), base.resolve("conf").resolve(file));
        }
        Files.writeString(base.resolve("conf/server.xml"), serverXml);
        Files.copy(ServerProcess.buildPath("switchboard.war"), base.resolve("webapps/myapp.war"));
        return base;
    }

    /** Runs Tomcat on {@code base} with {@code flags} for its JVM, once {@code site} answers. */
    static ServerProcess run(Path base, List<String> flags, Site site) throws IOException, InterruptedException {
        Path home = ServerProcess.buildPath("tomcat.home");
        return ServerProcess.start(List.of("sh", home.resolve("bin/catalina.sh").toString(), "run"), base,
                Map.of("CATALINA_HOME", home.toString(), "CATALINA_BASE", base.toString(),
                        "JAVA_HOME", System.getProperty("java.home"), "CATALINA_OPTS", String.join(" ", flags)),
                base.resolve("logs/console.log"), site.http("/"));
    }

    @AfterAll
    static void stop() {
        stopGracefully(tomcat, site);
    }

    /**
     * The direct path over TLS: Tomcat's socket wrapper encrypts the frames it is given, and a
     * message larger than the socket buffer spans many TLS records and several writes.
     */
    @Test
    void broadcastsOverTlsGoThroughTheSocketWrapperIntact() throws Exception {
        URI wss = URI.create("wss://localhost:" + tlsPort + site.endpointPath());
        ClientOptions options = ClientOptions.builder().reconnection(false).sslContext(certificates.trustingContext()).build();
        assertBroadcastsArriveIntact(() -> connect(wss, options, null));
    }

    @Override
    protected Site site() {
        return site;
    }

    @Override
    protected Optional<ServerProcess> process() {
        return Optional.of(tomcat);
    }

    @Override
    protected String directPathInUse() {
        return "Tomcat socket wrapper found";
    }

    @Override
    protected Duration connectionTimeout() {
        return CONNECTION_TIMEOUT;
    }

    /** Tomcat streams a frame to us in 8 KiB parts: it waits for the declared bytes until the heartbeat ends the connection. */
    @Override
    protected WebSocketLayerContract.Answers webSocketLayerAnswers() {
        return new WebSocketLayerContract.Answers(WebSocketLayerContract.CLOSED_BY_HEARTBEAT, "close 1002", "400", List.of("400", "400"));
    }
}
