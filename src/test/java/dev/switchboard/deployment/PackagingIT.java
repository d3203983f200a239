package dev.switchboard.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/** What the built WAR and the library's classes jar hold, and what they must leave out. */
class PackagingIT {
    private static final String CLASSES = "WEB-INF/classes/";
    private static final List<String> LIBRARY = List.of(
            "dev/switchboard/server/Switchboard.class",
            "dev/switchboard/transport/jsr356/SwitchboardEndpoint.class",
            "dev/switchboard/transport/servlet/SwitchboardServletListener.class",
            "dev/switchboard/transport/servlet/UpgradeGuard.class",
            "dev/switchboard/transport/servlet/HttpApiServlet.class",
            "dev/switchboard/http/HttpApi.class",
            "dev/switchboard/metrics/PrometheusMetrics.class");

    @Test
    void theWarCarriesTheLibraryJsonAndMetricsButNoWebSocketImplementationOrContainerApi() throws IOException {
        List<String> war = entries("switchboard.war");
        List<String> libs = war.stream().filter(entry -> entry.startsWith("WEB-INF/lib/") && entry.endsWith(".jar"))
                .map(entry -> entry.substring("WEB-INF/lib/".length())).toList();
        for (String containersOwn : List.of("tyrus", "grizzly", "jakarta.websocket", "servlet-api")) {
            assertTrue(libs.stream().noneMatch(lib -> lib.contains(containersOwn)), containersOwn + " in " + libs);
        }
        for (String json : List.of("jakarta.json.bind-api-", "yasson-", "jakarta.json-api-", "parsson-")) {
            assertTrue(libs.stream().anyMatch(lib -> lib.startsWith(json)), json + " missing from " + libs);
        }
        // /metrics: Micrometer, its Prometheus registry and the Prometheus client's text format, nothing more.
        List<String> metrics = List.of("micrometer-core-", "micrometer-commons-", "micrometer-observation-",
                "micrometer-registry-prometheus-", "prometheus-metrics-core-", "prometheus-metrics-model-",
                "prometheus-metrics-config-", "prometheus-metrics-tracer-common-", "prometheus-metrics-exposition-formats-",
                "prometheus-metrics-exposition-textformats-");
        for (String lib : metrics) {
            assertTrue(libs.stream().anyMatch(jar -> jar.startsWith(lib)), lib + " missing from " + libs);
        }
        List<String> json = List.of("jakarta.json.bind-api-", "yasson-", "jakarta.json-api-", "parsson-");
        List<String> unexpected = libs.stream().filter(jar -> Stream.concat(json.stream(), metrics.stream())
                .noneMatch(jar::startsWith) && !jar.startsWith("jspecify-")).toList();
        assertEquals(List.of(), unexpected, "jars the WAR should not need");
        for (String library : LIBRARY) {
            assertTrue(war.contains(CLASSES + library), library);
        }
        assertTrue(war.contains(CLASSES + "dev/switchboard/demo/DemoListener.class"));
        // The standalone server and its launcher would need the Grizzly and Tyrus the WAR leaves out.
        String standalone = CLASSES + "dev/switchboard/transport/grizzly/";
        assertTrue(war.stream().noneMatch(entry -> entry.startsWith(standalone)), war::toString);
        assertFalse(war.contains(CLASSES + "dev/switchboard/demo/DemoServer.class"));
    }

    @Test
    void theClassesJarIsTheLibraryWithoutTheDemo() throws IOException {
        List<String> jar = entries("switchboard.classesJar");
        for (String library : LIBRARY) {
            assertTrue(jar.contains(library), library);
        }
        assertTrue(jar.stream().noneMatch(entry -> entry.startsWith("dev/switchboard/demo/")), jar::toString);
    }

    /** The entry names of a built archive, given by its system property. */
    private static List<String> entries(String property) throws IOException {
        try (JarFile archive = new JarFile(ServerProcess.buildPath(property).toFile())) {
            return Collections.list(archive.entries()).stream().map(ZipEntry::getName).toList();
        }
    }
}
