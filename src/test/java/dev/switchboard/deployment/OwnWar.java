package dev.switchboard.deployment;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * A web application of a user's own, as docs/DEPLOY.md ("Your own WAR") describes it: the
 * library's classes jar and its runtime in {@code WEB-INF/lib}, one listener of its own
 * ({@link ChatStartup}) and one servlet that emits in process ({@link NoticeServlet}) in {@code
 * WEB-INF/classes}, no {@code web.xml}. Deployed unpacked.
 */
final class OwnWar {
    static final String CONTEXT_PATH = "/own";

    private OwnWar() {
    }

    /** Writes the application into a container's webapps folder, at {@link #CONTEXT_PATH}. */
    static void writeInto(Path webapps) throws IOException {
        Path app = webapps.resolve(CONTEXT_PATH.substring(1));
        Path lib = Files.createDirectories(app.resolve("WEB-INF/lib"));
        Path classesJar = ServerProcess.buildPath("switchboard.classesJar");
        Files.copy(classesJar, lib.resolve(classesJar.getFileName()));
        // The demo WAR's libraries are exactly the library's runtime dependencies.
        try (FileSystem war = FileSystems.newFileSystem(ServerProcess.buildPath("switchboard.war"));
             Stream<Path> jars = Files.list(war.getPath("WEB-INF/lib"))) {
            for (Path jar : jars.toList()) {
                Files.copy(jar, lib.resolve(jar.getFileName().toString()));
            }
        }
        for (Class<?> own : List.of(ChatStartup.class, NoticeServlet.class)) {
            String classFile = own.getName().replace('.', '/') + ".class";
            Path target = app.resolve("WEB-INF/classes").resolve(classFile);
            Files.createDirectories(target.getParent());
            try (InputStream in = own.getClassLoader().getResourceAsStream(classFile)) {
                Files.copy(in, target);
            }
        }
    }
}
