package dev.switchboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packages point one way, read from the compiled classes by the JDK's {@code jdeps}: no two
 * packages depend on each other, directly or through others, and the core never sees a container.
 * A second adapter or codec slots in only while this holds.
 */
class PackageGraphTest {
    private static final Path CLASSES = Path.of("target", "classes");
    private static final String OURS = "dev.switchboard.";
    /** The core: what a transport, an adapter or a codec builds on. */
    private static final Set<String> CORE = Set.of("dev.switchboard.api", "dev.switchboard.protocol", "dev.switchboard.outbound",
            "dev.switchboard.adapter", "dev.switchboard.server");
    /**
     * What the core must not see: containers, the metrics library (only dev.switchboard.metrics binds
     * it), and the Redis client that only {@code adapter.redis} may use (it is optional).
     */
    private static final List<String> CONTAINER_PACKAGES = List.of("jakarta.websocket", "jakarta.servlet",
            "org.glassfish", "org.eclipse.jetty", "org.apache.tomcat", "io.micrometer", "io.prometheus", "java.net.http", "io.lettuce", "io.netty");

    /** Every package of ours with the packages it uses (itself left out). */
    private static final Map<String, Set<String>> uses = new TreeMap<>();

    @BeforeAll
    static void readTheGraph() {
        assertTrue(Files.isDirectory(CLASSES), "compiled classes expected at " + CLASSES.toAbsolutePath());
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError("no jdeps in this JDK"));
        StringWriter out = new StringWriter();
        int exit = jdeps.run(new PrintWriter(out), new PrintWriter(new StringWriter()),
                "-verbose:package", "-filter:none", CLASSES.toString());
        assertEquals(0, exit, out.toString());
        for (String line : out.toString().split("\n")) {
            String[] words = line.trim().split("\\s+");
            if (words.length >= 3 && words[0].startsWith(OURS) && "->".equals(words[1]) && !words[0].equals(words[2])) {
                uses.computeIfAbsent(words[0], from -> new TreeSet<>()).add(words[2]);
            }
        }
        assertTrue(uses.containsKey("dev.switchboard.server"), "jdeps listed no dependency of the core: " + out);
    }

    @Test
    void noPackagesDependOnEachOther() {
        List<String> cycles = new ArrayList<>();
        for (String start : uses.keySet()) {
            List<String> path = new ArrayList<>(List.of(start));
            findCycleBack(start, start, path, new TreeSet<>(), cycles);
        }
        assertEquals(List.of(), cycles, "package cycles");
    }

    @Test
    void theCoreNeverSeesAContainer() {
        for (String core : CORE) {
            for (String used : uses.getOrDefault(core, Set.of())) {
                assertTrue(CONTAINER_PACKAGES.stream().noneMatch(used::startsWith), core + " uses " + used);
                assertTrue(!used.startsWith(OURS) || CORE.contains(used), core + " uses " + used + ", outside the core");
            }
        }
    }

    @Test
    void theSendQueueStandsOnItsOwn() {
        // The server and the Java client both write through it, and the client must not see the server.
        for (String used : uses.getOrDefault("dev.switchboard.outbound", Set.of())) {
            assertTrue(!used.startsWith(OURS), "dev.switchboard.outbound uses " + used);
        }
        assertTrue(uses.getOrDefault("dev.switchboard.client", Set.of()).stream().noneMatch(
                used -> used.equals("dev.switchboard.server")), "the client uses the server: " + uses.get("dev.switchboard.client"));
    }

    /** Depth first from {@code at}, recording each path that leads back to {@code start}, once per start. */
    private static void findCycleBack(String start, String at, List<String> path, Set<String> seen, List<String> cycles) {
        for (String next : uses.getOrDefault(at, Set.of())) {
            if (next.equals(start)) {
                cycles.add(String.join(" -> ", path) + " -> " + start);
                return;
            }
            if (next.startsWith(OURS) && seen.add(next)) {
                path.add(next);
                findCycleBack(start, next, path, seen, cycles);
                path.remove(path.size() - 1);
            }
        }
    }
}
