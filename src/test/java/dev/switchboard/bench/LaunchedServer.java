package dev.switchboard.bench;

import dev.switchboard.testing.RedisServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A server under test in its own process, pinned to CPU 0 with taskset where the machine has the
 * cores for it (the generator takes CPU 1), its output in a log file. The harness's own servers
 * say {@code READY <port>} when they listen and end when their standard input closes; a
 * container is told its port, probed until it upgrades, and stopped with SIGTERM.
 *
 * <p>A cluster target is one such server per node plus the redis-server they share
 * ({@link #cluster}): node 0 is this object's own process, and the CPU figures sum over every
 * node and Redis, since all of them do the work that is measured.
 */
final class LaunchedServer implements AutoCloseable {
    private final Process process;
    private final int port;
    private final String banner;
    /** A cluster's nodes after node 0; empty for a server on its own. Fixed at the start; only {@link #kill} ends one early. */
    private final List<LaunchedServer> otherNodes;
    /** The Redis a cluster's nodes share, or null. */
    private final RedisServer redis;

    private LaunchedServer(Process process, int port, String banner) {
        this(process, port, banner, List.of(), null);
    }

    private LaunchedServer(Process process, int port, String banner, List<LaunchedServer> otherNodes, RedisServer redis) {
        this.process = process;
        this.port = port;
        this.banner = banner;
        this.otherNodes = otherNodes;
        this.redis = redis;
    }

    /** The nodes of a cluster on one Redis as one server under test: node 0 answers {@link #port()}. */
    static LaunchedServer cluster(List<LaunchedServer> nodes, RedisServer redis, String banner) {
        LaunchedServer first = nodes.get(0);
        return new LaunchedServer(first.process, first.port, banner, List.copyOf(nodes.subList(1, nodes.size())), redis);
    }

    /** Starts a server that says {@code READY <port> [banner]} when it listens. */
    static LaunchedServer start(List<String> command, Path log, boolean pin) throws IOException, InterruptedException {
        Process process = launch(command, null, Map.of(), log, pin);
        String ready = await(process, command, log, () -> readyLine(log));
        return new LaunchedServer(process, Integer.parseInt(ready.split(" ")[1]), ready);
    }

    /**
     * Starts a server (a container's launcher) told to listen on {@code port}; it is ready once a
     * WebSocket upgrade to {@code /switchboard} there is answered with 101, which is when the
     * connector listens and the web application is deployed.
     */
    static LaunchedServer startListening(List<String> command, Path dir, Map<String, String> env, Path log, boolean pin,
                                         int port, String banner) throws IOException, InterruptedException {
        Process process = launch(command, dir, env, log, pin);
        await(process, command, log, () -> upgrades(port) ? "ready" : null);
        return new LaunchedServer(process, port, banner + ", port " + port);
    }

    private static Process launch(List<String> command, Path dir, Map<String, String> env, Path log, boolean pin)
            throws IOException {
        List<String> full = new ArrayList<>();
        if (pin) {
            full.addAll(List.of("taskset", "-c", "0"));
        }
        full.addAll(command);
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(log.toFile());
        if (dir != null) {
            builder.directory(dir.toFile());
        }
        builder.environment().putAll(env);
        Process process = builder.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> kill(process)));
        return process;
    }

    /** What a starting server has said once it is ready, or null until then. */
    private interface Readiness {
        String check() throws IOException;
    }

    /** Waits up to a minute for the server to be ready; kills it when it is not. */
    private static String await(Process process, List<String> command, Path log, Readiness ready)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try {
            while (System.nanoTime() < deadline) {
                String answer = ready.check();
                if (answer != null) {
                    return answer;
                }
                if (!process.isAlive()) {
                    throw new IOException(String.join(" ", command) + " exited with " + process.exitValue() + ":\n"
                            + Files.readString(log));
                }
                TimeUnit.MILLISECONDS.sleep(50);
            }
            throw new IOException(String.join(" ", command) + " was not ready within 60 s; see " + log);
        } catch (IOException | InterruptedException | RuntimeException e) {
            kill(process);
            throw e;
        }
    }

    private static String readyLine(Path log) throws IOException {
        return Files.readAllLines(log).stream().filter(l -> l.startsWith("READY ")).findFirst().orElse(null);
    }

    /** Whether an upgrade to {@code /switchboard} on the port is answered with 101 (then dropped). */
    private static boolean upgrades(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(("GET " + Wire.SWITCHBOARD.path() + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII).equals("HTTP/1.1 101");
        } catch (IOException notYet) {
            return false;
        }
    }

    private static void kill(Process process) {
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroyForcibly();
        descendants.forEach(ProcessHandle::destroyForcibly);
    }

    /** Whether {@code taskset} is there and the machine has two cores or more (the generator may be pinned already). */
    static boolean canPin() {
        try {
            long cores = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("processor")).count();
            return cores >= 2 && new ProcessBuilder("taskset", "-c", "0", "true").start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    int port() {
        return port;
    }

    /** Where each node listens, node 0 first: one address for a server on its own. */
    List<InetSocketAddress> addresses() {
        return Stream.concat(Stream.of(this), otherNodes.stream())
                .map(node -> new InetSocketAddress("127.0.0.1", node.port)).toList();
    }

    /** Ends a cluster's node as a crash would (SIGKILL), node 0 being this one. */
    void kill(int node) throws InterruptedException {
        Process victim = node == 0 ? process : otherNodes.get(node - 1).process;
        victim.destroyForcibly().waitFor();
    }

    /** Every process the CPU figures cover: the server, a cluster's other nodes and its Redis. */
    private List<Long> pids() {
        List<Long> pids = new ArrayList<>();
        pids.add(pid());
        otherNodes.forEach(node -> pids.add(node.pid()));
        if (redis != null) {
            pids.add(redis.pid());
        }
        return pids;
    }

    /** CPU seconds so far of each of {@link #pids()}, for {@link #cpuSince}. */
    double[] cpuByProcess() {
        return pids().stream().mapToDouble(ProcStats::cpuSeconds).toArray();
    }

    /** What each process of a cluster used since {@code before}, e.g. "node 0 1.20 s, node 1 1.10 s, Redis 0.40 s". */
    String cpuSince(double[] before) {
        double[] now = cpuByProcess();
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < now.length; i++) {
            String name = redis != null && i == now.length - 1 ? "Redis" : "node " + i;
            parts.add(String.format("%s %.2f s", name, now[i] - before[i]));
        }
        return String.join(", ", parts);
    }

    long pid() {
        return process.pid();
    }

    /** The READY line, which may name versions, or the container's distribution and port. */
    String banner() {
        return banner;
    }

    double cpuSeconds() {
        return pids().stream().mapToDouble(ProcStats::cpuSeconds).sum();
    }

    // Like cpuSeconds, over every process of a cluster: counting node 0 alone would leave out the
    // other nodes' and Redis' share of the same deliveries.
    double userSeconds() {
        return pids().stream().mapToDouble(ProcStats::userSeconds).sum();
    }

    double systemSeconds() {
        return pids().stream().mapToDouble(ProcStats::systemSeconds).sum();
    }

    long contextSwitches() {
        return pids().stream().mapToLong(ProcStats::contextSwitches).sum();
    }

    long syscalls() {
        return pids().stream().mapToLong(ProcStats::syscalls).sum();
    }

    /** Writes the live objects of a JVM server by class ({@code jcmd GC.class_histogram}); best effort. */
    void classHistogram(Path file) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(jvmPid()), "GC.class_histogram")
                    .redirectErrorStream(true).redirectOutput(file.toFile()).start();
            p.waitFor(30, TimeUnit.SECONDS);
        } catch (IOException e) {
            // no jcmd: no histogram
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The JVM among the process and its descendants: a launcher may have started it. */
    private long jvmPid() {
        return Stream.concat(Stream.of(process.toHandle()), process.descendants())
                .filter(p -> p.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst().map(ProcessHandle::pid).orElse(pid());
    }

    double jitCpuSeconds() {
        return pids().stream().mapToDouble(ProcStats::jitCpuSeconds).sum();
    }

    double runQueueWaitSeconds() {
        return pids().stream().mapToDouble(ProcStats::runQueueWaitSeconds).sum();
    }

    long rssBytes() {
        return ProcStats.rssBytes(pid());
    }

    long threads() {
        return ProcStats.threads(pid());
    }

    long openFiles() {
        return ProcStats.openFiles(pid());
    }

    /** Closes its standard input (the harness's own servers end then) and sends SIGTERM (containers stop then). */
    @Override
    public void close() {
        List<ProcessHandle> descendants = process.descendants().toList();
        try {
            process.getOutputStream().close();
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        descendants.forEach(ProcessHandle::destroyForcibly);
        otherNodes.forEach(LaunchedServer::close);
        if (redis != null) {
            redis.close();
        }
    }
}
