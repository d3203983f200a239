package dev.switchboard.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** A server the harness measures: what it is, where it runs, how to start it and which wire format it speaks. */
enum Target {
    SWITCHBOARD("switchboard", Role.SWITCHBOARD, "Grizzly", null),
    RAW("raw", Role.FLOOR, "Grizzly", null),
    SWITCHBOARD_TOMCAT("switchboard-tomcat", Role.SWITCHBOARD, "Tomcat 11", ServletContainer.TOMCAT),
    RAW_TOMCAT("raw-tomcat", Role.FLOOR, "Tomcat 11", ServletContainer.TOMCAT),
    SWITCHBOARD_JETTY("switchboard-jetty", Role.SWITCHBOARD, "Jetty 12", ServletContainer.JETTY),
    RAW_JETTY("raw-jetty", Role.FLOOR, "Jetty 12", ServletContainer.JETTY),
    SOCKETIO("socketio", Role.PEER, "Node", null),
    /** Not run by default: the {@code switchboard} server again, the generator speaking Socket.IO to it. */
    SWITCHBOARD_SIO("switchboard-sio", "Switchboard, Socket.IO wire", Role.SWITCHBOARD, "Grizzly", Wire.SOCKET_IO),
    /** Not run by default: netty-socketio, a Java Socket.IO server ({@link NettySocketIoPeer}). */
    NETTY_SOCKETIO("netty-socketio", "netty-socketio 2.0", Role.PEER, "Netty", Wire.SOCKET_IO),
    /** Not run by default: socket.io-server-java on Jetty 9.4 ({@link SocketIoJavaPeer}). */
    SOCKETIO_JAVA("socketio-java", "socket.io-server-java 4.1", Role.PEER, "Jetty 9.4", Wire.SOCKET_IO),
    /** {@link WriteFloorServer}: the least a JVM server can pay per delivery, the ceiling of every ratio. */
    WRITE_FLOOR("floor", Role.WRITE_FLOOR, "plain NIO", null),
    /** Not run by default: Switchboard with connection-state recovery off, to price the replay logs. */
    SWITCHBOARD_NO_RECOVERY("switchboard-norecovery", Role.EXPERIMENT, "Grizzly", null),
    /** Not run by default, as the other clusters on Redis below (docs/BENCHMARKS.md, "Clusters on Redis"). */
    SWITCHBOARD_REDIS1("switchboard-redis1", Role.CLUSTER, "Grizzly, 1 node", 1),
    SWITCHBOARD_REDIS2("switchboard-redis2", Role.CLUSTER, "Grizzly, 2 nodes", 2),
    SOCKETIO_REDIS("socketio-redis", Role.CLUSTER_PEER, "Node, 2 nodes, redis-adapter", 2),
    SOCKETIO_STREAMS("socketio-streams", Role.CLUSTER_PEER, "Node, 2 nodes, redis-streams-adapter", 2);

    /** What a target is to the comparison: the ratios are Switchboard's figure over the floor's on its container, and over the peer's. */
    enum Role {
        SWITCHBOARD("Switchboard"), FLOOR("raw JSR 356"), PEER("socket.io 4.8"), WRITE_FLOOR("write floor"),
        EXPERIMENT("Switchboard, recovery off"), CLUSTER("Switchboard on Redis"), CLUSTER_PEER("socket.io 4.8 on Redis");

        final String title;

        Role(String title) {
            this.title = title;
        }
    }

    /** What a run measures unless told otherwise. */
    static final List<Target> DEFAULTS = List.of(SWITCHBOARD, RAW, SWITCHBOARD_TOMCAT, RAW_TOMCAT,
            SWITCHBOARD_JETTY, RAW_JETTY, SOCKETIO, WRITE_FLOOR);

    /** Fixed heap and an explicit collector: a pinned JVM sees one CPU and would otherwise pick Serial GC. */
    static final List<String> SERVER_JVM = List.of("-XX:+UseG1GC", "-Xms1g", "-Xmx1g");

    final String id;
    final Role role;
    /** The server it runs on: Grizzly (the standalone server), Tomcat 11, Jetty 12, Node, Netty, Jetty 9.4. */
    final String host;
    /** The servlet container it is deployed to as a web application, or null. */
    final ServletContainer container;
    final String title;
    final Wire wire;
    /** The nodes of a cluster on Redis, each its own process; 0 for a server on its own. */
    final int nodes;

    Target(String id, Role role, String host, ServletContainer container) {
        this(id, role.title, role, host, container, wireOf(role), 0);
    }

    /** A target on the harness's own JVM ({@link BenchServer}) with a name and a wire of its own. */
    Target(String id, String name, Role role, String host, Wire wire) {
        this(id, name, role, host, null, wire, 0);
    }

    /** A cluster of {@code nodes} on Redis ({@link RedisNodes}). */
    Target(String id, Role role, String host, int nodes) {
        this(id, role.title, role, host, null, wireOf(role), nodes);
    }

    private Target(String id, String name, Role role, String host, ServletContainer container, Wire wire, int nodes) {
        this.id = id;
        this.role = role;
        this.host = host;
        this.container = container;
        this.nodes = nodes;
        this.title = name + " (" + host + ")";
        this.wire = wire;
    }

    private static Wire wireOf(Role role) {
        return role == Role.PEER || role == Role.CLUSTER_PEER ? Wire.SOCKET_IO : Wire.SWITCHBOARD;
    }

    /** Whether the server offers connection-state recovery, which S5 measures; the Java Socket.IO peers do not. */
    boolean recovers() {
        return this != NETTY_SOCKETIO && this != SOCKETIO_JAVA;
    }

    static Target byId(String id) {
        for (Target target : values()) {
            if (target.id.equals(id)) {
                return target;
            }
        }
        throw new IllegalArgumentException("unknown target " + id + "; known: " + ids());
    }

    static String ids() {
        return String.join(",", Stream.of(values()).map(t -> t.id).toList());
    }

    /**
     * Starts the server: the harness's own JVM ({@link BenchServer}) on Grizzly (or a Java peer), the
     * container's launcher with a web application laid out under {@code out/containers/<id>}, Node,
     * or the nodes of a cluster and their Redis ({@link RedisNodes}).
     *
     * @param jfr a flight recording to write, or null
     */
    LaunchedServer start(Path root, Path out, boolean pin, Path jfr) throws IOException, InterruptedException {
        if (nodes > 0) {
            return RedisNodes.start(this, root, out, pin, jfr);
        }
        Path log = out.resolve(id + ".log");
        if (this == SOCKETIO) {
            return LaunchedServer.start(socketIo(root, "0"), log, pin);
        }
        List<String> jvm = jvm(jfr);
        if (container == null) {
            return LaunchedServer.start(benchServer(jvm, id, "0"), log, pin);
        }
        Path base = emptyDirectory(out.toAbsolutePath().resolve("containers").resolve(id));
        Path webapp = base.resolve("webapps/ROOT");
        if (role == Role.FLOOR) {
            BenchWebapp.rawFloor(webapp);
        } else {
            BenchWebapp.switchboard(webapp, root);
        }
        return container.start(container.home(root), base, freePort(), jvm, log, pin);
    }

    private static Path emptyDirectory(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(file);
                }
            }
        }
        return Files.createDirectories(dir);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** {@link #SERVER_JVM}, recording to {@code jfr} when it is not null. */
    static List<String> jvm(Path jfr) {
        List<String> jvm = new ArrayList<>(SERVER_JVM);
        if (jfr != null) {
            jvm.add("-XX:StartFlightRecording=filename=" + jfr + ",settings=profile");
        }
        return jvm;
    }

    /** The command of a {@link BenchServer} JVM with these options and arguments. */
    static List<String> benchServer(List<String> jvm, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvm);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), BenchServer.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /** The command of {@code bench/socketio/server.js} with these arguments, its npm packages installed first. */
    static List<String> socketIo(Path root, String... args) throws IOException, InterruptedException {
        Path dir = root.resolve("bench/socketio");
        installNodeModules(dir);
        List<String> command = new ArrayList<>(List.of("node", "--expose-gc", dir.resolve("server.js").toString()));
        command.addAll(List.of(args));
        return command;
    }

    /** socket.io, its Redis adapters, ws and bufferutil from npm into bench/socketio/node_modules, once. */
    private static void installNodeModules(Path dir) throws IOException, InterruptedException {
        if (Files.isDirectory(dir.resolve("node_modules/@socket.io/redis-streams-adapter"))) {
            return;
        }
        Process npm = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund", "--prefix", dir.toString())
                .inheritIO().start();
        if (npm.waitFor() != 0) {
            throw new IOException("npm install --prefix " + dir + " failed");
        }
    }
}
