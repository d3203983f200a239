package dev.switchboard.bench;

import dev.switchboard.server.Switchboard;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The benchmark's two web applications, laid out as exploded WARs from the compiled classes at
 * run time: {@link #switchboard} ({@link BenchApp} through {@link BenchListener}, on the library
 * as the project's WAR ships it) and {@link #rawFloor} ({@link RawFloorEndpoint} alone). Neither
 * carries Tyrus or Grizzly: the container brings its own WebSocket implementation.
 */
final class BenchWebapp {
    /** Left out as the project's WAR leaves them out: the standalone server's classes, and the demo. */
    private static final List<String> NOT_IN_WAR = List.of("dev/switchboard/transport/grizzly", "dev/switchboard/demo");

    private static final String LIBRARIES = "target/bench/webapp-libs.txt";

    private static final String WEB_XML = """
            <?xml version="1.0" encoding="UTF-8"?>
            <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.1">
              <listener>
                <listener-class>%s</listener-class>
              </listener>
            </web-app>
            """;
    private static final String EMPTY_WEB_XML = """
            <?xml version="1.0" encoding="UTF-8"?>
            <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.1"/>
            """;

    private BenchWebapp() {
    }

    /**
     * Switchboard: the library's classes, its runtime jars (JSON-B, Yasson, Parsson, JSON-P, as
     * listed by the build in {@code target/bench/webapp-libs.txt}) and the benchmark's application,
     * started by {@link BenchListener}.
     */
    static void switchboard(Path dir, Path root) throws IOException {
        Path classes = dir.resolve("WEB-INF/classes");
        Path library = classesRoot(Switchboard.class);
        try (Stream<Path> files = Files.walk(library)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                String relative = library.relativize(file).toString().replace('\\', '/');
                if (NOT_IN_WAR.stream().noneMatch(relative::startsWith)) {
                    copy(file, classes.resolve(relative));
                }
            }
        }
        copyClasses(classes, BenchListener.class, BenchApp.class, Heap.class);
        Path lib = dir.resolve("WEB-INF/lib");
        for (Path jar : libraries(root)) {
            copy(jar, lib.resolve(jar.getFileName().toString()));
        }
        Files.writeString(dir.resolve("WEB-INF/web.xml"), WEB_XML.formatted(BenchListener.class.getName()));
    }

    /** The library's runtime dependencies, written by {@code mvn dependency:build-classpath@bench-webapp-libs}. */
    private static List<Path> libraries(Path root) throws IOException {
        Path list = root.resolve(LIBRARIES);
        if (!Files.exists(list)) {
            throw new IOException(list + " is missing: bench/run.sh writes it (mvn dependency:build-classpath@bench-webapp-libs)");
        }
        return Arrays.stream(Files.readString(list).trim().split(File.pathSeparator)).map(Path::of).toList();
    }

    /** The floor: its endpoint, which the container deploys by scanning, and the two helpers it uses. */
    static void rawFloor(Path dir) throws IOException {
        copyClasses(dir.resolve("WEB-INF/classes"), RawFloorEndpoint.class, Frames.class, Heap.class);
        Files.writeString(dir.resolve("WEB-INF/web.xml"), EMPTY_WEB_XML);
    }

    /** Copies each class file with its nested and anonymous classes ({@code Name$...class}). */
    private static void copyClasses(Path classes, Class<?>... types) throws IOException {
        for (Class<?> type : types) {
            Path root = classesRoot(type);
            Path packageDir = root.resolve(type.getPackageName().replace('.', '/'));
            String name = type.getSimpleName();
            try (Stream<Path> files = Files.list(packageDir)) {
                for (Path file : files.toList()) {
                    String fileName = file.getFileName().toString();
                    if (fileName.equals(name + ".class") || fileName.startsWith(name + "$")) {
                        copy(file, classes.resolve(root.relativize(file).toString()));
                    }
                }
            }
        }
    }

    /** The class directory a class was loaded from (target/classes, target/test-classes, or run.sh's copy). */
    private static Path classesRoot(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
}
