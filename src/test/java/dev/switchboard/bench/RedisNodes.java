package dev.switchboard.bench;

import dev.switchboard.testing.RedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Starts a cluster target: a {@code redis-server} on a free port, then each node in its own
 * process joined to it ({@link BenchServer} in {@code switchboard-redis} mode, or
 * {@code bench/socketio/server.js} with a Redis adapter). Pinned, every node and Redis share CPU 0
 * as a server on its own does: the generator keeps CPU 1 to itself, and the figure of merit,
 * deliveries per CPU-second summed over every process, does not depend on how they split one core.
 */
final class RedisNodes {
    private static final Path REDIS = Path.of("/usr/bin/redis-server");

    private RedisNodes() {
    }

    /** @param jfr where node 0's flight recording goes (node {@code i}'s: with {@code -node<i>} before {@code .jfr}), or null */
    static LaunchedServer start(Target target, Path root, Path out, boolean pin, Path jfr)
            throws IOException, InterruptedException {
        if (!Files.isExecutable(REDIS)) {
            throw new IOException(REDIS + " is not installed: apt-get install redis-server");
        }
        RedisServer redis = RedisServer.start();
        List<LaunchedServer> nodes = new ArrayList<>();
        // All at once: a JVM takes seconds to start, more on a busy machine.
        List<CompletableFuture<LaunchedServer>> starting = new ArrayList<>();
        try {
            if (pin) {
                // Every thread of it, its background threads included.
                run("taskset", "-a", "-p", "-c", "0", Long.toString(redis.pid()));
            }
            for (int node = 0; node < target.nodes; node++) {
                List<String> command = command(target, root, redis.uri(), nodeRecording(jfr, node));
                Path log = out.resolve(target.id + "-node" + node + ".log");
                starting.add(CompletableFuture.supplyAsync(() -> startNode(command, log, pin)));
            }
            for (CompletableFuture<LaunchedServer> node : starting) {
                nodes.add(started(node));
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            // Those started, now or later.
            starting.forEach(node -> node.thenAccept(LaunchedServer::close));
            redis.close();
            throw e;
        }
        String banner = nodes.get(0).banner() + "; " + target.nodes + " node(s) on " + version();
        return LaunchedServer.cluster(nodes, redis, banner);
    }

    /** The node, or why it could not start. */
    private static LaunchedServer started(CompletableFuture<LaunchedServer> node) throws IOException {
        try {
            return node.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof UncheckedIOException failure) {
                throw failure.getCause();
            }
            throw e;
        }
    }

    private static LaunchedServer startNode(List<String> command, Path log, boolean pin) {
        try {
            return LaunchedServer.start(command, log, pin);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Path nodeRecording(Path jfr, int node) {
        return jfr == null ? null : jfr.resolveSibling(jfr.getFileName().toString().replace(".jfr", "-node" + node + ".jfr"));
    }

    private static List<String> command(Target target, Path root, String redisUri, Path jfr)
            throws IOException, InterruptedException {
        return switch (target) {
            case SWITCHBOARD_REDIS1, SWITCHBOARD_REDIS2 -> Target.benchServer(Target.jvm(jfr), "switchboard-redis", "0", redisUri);
            case SOCKETIO_REDIS -> Target.socketIo(root, "0", "redis", redisUri);
            case SOCKETIO_STREAMS -> Target.socketIo(root, "0", "streams", redisUri);
            default -> throw new IllegalArgumentException(target + " is not a cluster on Redis");
        };
    }

    /** "redis-server 7.0.15", from its {@code --version}. */
    private static String version() throws IOException, InterruptedException {
        String answer = run(REDIS.toString(), "--version");
        int at = answer.indexOf("v=");
        return "redis-server " + (at < 0 ? "?" : answer.substring(at + 2).split(" ")[0]);
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
        return output;
    }
}
