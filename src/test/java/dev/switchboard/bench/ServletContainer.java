package dev.switchboard.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Tomcat 11 and Jetty 12 as a user runs them: the distributions the build unpacks into
 * target/containers ({@code mvn dependency:unpack@unpack-containers}, which bench/run.sh does),
 * each started by its own launcher with a base directory of its own and one web application,
 * deployed as ROOT so that the endpoint is at {@code /switchboard} as on the standalone server.
 * Each container has its own process and class path: Tomcat's WebSocket and Tyrus never meet.
 */
enum ServletContainer {
    TOMCAT("tomcat.home", "apache-tomcat-") {
        /** One connector on loopback, its accept backlog as Grizzly's; no shutdown port (it is stopped with a signal). */
        private static final String SERVER_XML = """
                <?xml version="1.0" encoding="UTF-8"?>
                <Server port="-1" shutdown="SHUTDOWN">
                  <Service name="Catalina">
                    <Connector address="127.0.0.1" port="%d" protocol="HTTP/1.1" connectionTimeout="20000" acceptCount="4096"/>
                    <Engine name="Catalina" defaultHost="localhost">
                      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false"/>
                    </Engine>
                  </Service>
                </Server>
                """;

        @Override
        LaunchedServer start(Path home, Path base, int port, List<String> jvm, Path log, boolean pin)
                throws IOException, InterruptedException {
            for (String dir : List.of("conf", "logs", "temp", "work")) {
                Files.createDirectories(base.resolve(dir));
            }
            for (String file : List.of("web.xml", "context.xml", "catalina.properties", "logging.properties")) {
                Files.copy(home.resolve("conf").resolve(file), base.resolve("conf").resolve(file));
            }
            Files.writeString(base.resolve("conf/server.xml"), SERVER_XML.formatted(port));
            // catalina.sh run execs the JVM: the launched process is Tomcat itself.
            return LaunchedServer.startListening(List.of("sh", home.resolve("bin/catalina.sh").toString(), "run"), base,
                    Map.of("CATALINA_HOME", home.toString(), "CATALINA_BASE", base.toString(),
                            "JAVA_HOME", System.getProperty("java.home"), "CATALINA_OPTS", String.join(" ", jvm)),
                    log, pin, port, home.getFileName().toString());
        }
    },

    JETTY("jetty.home", "jetty-home-") {
        @Override
        LaunchedServer start(Path home, Path base, int port, List<String> jvm, Path log, boolean pin)
                throws IOException, InterruptedException {
            String startJar = home.resolve("start.jar").toString();
            addModules(base, startJar, home);
            List<String> command = new ArrayList<>();
            command.add(java());
            // No module asks start.jar to fork: these options are the server's own.
            command.addAll(jvm);
            command.addAll(List.of("-jar", startJar, "jetty.home=" + home, "jetty.base=" + base,
                    "jetty.http.host=127.0.0.1", "jetty.http.port=" + port, "jetty.http.acceptQueueSize=4096"));
            return LaunchedServer.startListening(command, base, Map.of(), log, pin, port, home.getFileName().toString());
        }

        private void addModules(Path base, String startJar, Path home) throws IOException, InterruptedException {
            Path log = base.resolve("add-modules.log");
            Process process = new ProcessBuilder(java(), "-jar", startJar, "jetty.home=" + home, "jetty.base=" + base,
                    "--add-modules=http,ee11-deploy,ee11-websocket-jakarta")
                    .directory(base.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                process.destroyForcibly();
                throw new IOException("jetty --add-modules failed:\n" + Files.readString(log));
            }
        }
    };

    private final String homeProperty;
    private final String distributionPrefix;

    ServletContainer(String homeProperty, String distributionPrefix) {
        this.homeProperty = homeProperty;
        this.distributionPrefix = distributionPrefix;
    }

    /**
     * Starts the container on {@code port} with {@code base} as its base directory, in which
     * {@code webapps/ROOT} holds the web application already; ready once an upgrade to
     * {@code /switchboard} is answered with 101.
     *
     * @param jvm the server JVM's options
     */
    abstract LaunchedServer start(Path home, Path base, int port, List<String> jvm, Path log, boolean pin)
            throws IOException, InterruptedException;

    /**
     * The distribution's directory: the system property the build sets for the integration tests
     * ({@code tomcat.home}, {@code jetty.home}), else the one under {@code root/target/containers}.
     */
    Path home(Path root) throws IOException {
        String property = System.getProperty(homeProperty);
        if (property != null) {
            return Path.of(property);
        }
        Path containers = root.resolve("target/containers");
        List<Path> found;
        try (Stream<Path> dirs = Files.isDirectory(containers) ? Files.list(containers) : Stream.empty()) {
            found = dirs.filter(d -> d.getFileName().toString().startsWith(distributionPrefix)).sorted().toList();
        }
        if (found.size() != 1) {
            throw new IOException("expected one " + distributionPrefix + "* in " + containers + ", found " + found
                    + ": bench/run.sh unpacks it (mvn dependency:unpack@unpack-containers)");
        }
        return found.get(0);
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
