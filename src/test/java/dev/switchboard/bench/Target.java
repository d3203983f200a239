package dev.switchboard.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A server the harness measures: how to start it and which wire format it speaks. */
enum Target {
    SWITCHBOARD("switchboard", "Switchboard (Grizzly)", Wire.SWITCHBOARD),
    RAW("raw", "raw JSR 356 (Grizzly)", Wire.SWITCHBOARD),
    SOCKETIO("socketio", "socket.io 4.8 (Node)", Wire.SOCKET_IO),
    /** Not run by default: Switchboard with connection-state recovery off, to price the replay logs. */
    SWITCHBOARD_NO_RECOVERY("switchboard-norecovery", "Switchboard, recovery off", Wire.SWITCHBOARD);

    /** What a run measures unless told otherwise. */
    static final List<Target> DEFAULTS = List.of(SWITCHBOARD, RAW, SOCKETIO);

    /** Fixed heap and an explicit collector: a pinned JVM sees one CPU and would otherwise pick Serial GC. */
    static final List<String> SERVER_JVM = List.of("-XX:+UseG1GC", "-Xms1g", "-Xmx1g");

    final String id;
    final String title;
    final Wire wire;

    Target(String id, String title, Wire wire) {
        this.id = id;
        this.title = title;
        this.wire = wire;
    }

    static Target byId(String id) {
        for (Target target : values()) {
            if (target.id.equals(id)) {
                return target;
            }
        }
        throw new IllegalArgumentException("unknown target " + id + "; known: switchboard, raw, socketio, switchboard-norecovery");
    }

    /**
     * Starts the server.
     *
     * @param jfr a flight recording to write, or null
     */
    LaunchedServer start(Path root, Path logDir, boolean pin, Path jfr) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (this == SOCKETIO) {
            Path dir = root.resolve("bench/socketio");
            installNodeModules(dir);
            command.addAll(List.of("node", "--expose-gc", dir.resolve("server.js").toString(), "0"));
        } else {
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(SERVER_JVM);
            if (jfr != null) {
                command.add("-XX:StartFlightRecording=filename=" + jfr + ",settings=profile");
            }
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), BenchServer.class.getName(), id, "0"));
        }
        return LaunchedServer.start(command, logDir.resolve(id + ".log"), pin);
    }

    /** socket.io, ws and bufferutil from npm into bench/socketio/node_modules, once. */
    private static void installNodeModules(Path dir) throws IOException, InterruptedException {
        if (Files.isDirectory(dir.resolve("node_modules/socket.io"))) {
            return;
        }
        Process npm = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund", "--prefix", dir.toString())
                .inheritIO().start();
        if (npm.waitFor() != 0) {
            throw new IOException("npm install --prefix " + dir + " failed");
        }
    }
}
