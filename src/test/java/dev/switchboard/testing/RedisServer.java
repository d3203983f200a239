package dev.switchboard.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * A real {@code redis-server} process on a free loopback port, with nothing saved to disk, that a
 * test can kill, freeze (SIGSTOP) and restart empty on the same port. Tests that need it are
 * skipped with a hint when Redis is not installed ({@code apt-get install redis-server}).
 *
 * <pre>{@code
 * try (RedisServer redis = RedisServer.start()) {
 *     RedisCluster cluster = RedisCluster.builder(redis.uri()).connect();
 * }
 * }</pre>
 */
public final class RedisServer implements AutoCloseable {
    private static final Path BINARY = Path.of("/usr/bin/redis-server");

    private final int port;
    private Process process;

    private RedisServer(int port) {
        this.port = port;
    }

    /** Starts one, or skips the test when {@code redis-server} is missing. */
    public static RedisServer start() {
        Assumptions.assumeTrue(Files.isExecutable(BINARY), "redis-server is not installed: apt-get install redis-server");
        RedisServer redis = new RedisServer(freePort());
        redis.restart();
        return redis;
    }

    /** {@code redis://127.0.0.1:<port>}. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** The process id, e.g. to read its CPU time from /proc (the benchmark counts it as a server's). */
    public long pid() {
        return process.pid();
    }

    /** A plain connection to this Redis, for a test that reads its keys; closing it lets its client go. */
    public Direct connect() {
        RedisClient client = RedisClient.create(uri());
        return new Direct(client, client.connect());
    }

    /** A test's own connection to a Redis. */
    public record Direct(RedisClient client, StatefulRedisConnection<String, String> connection) implements AutoCloseable {
        public RedisCommands<String, String> sync() {
            return connection.sync();
        }

        @Override
        public void close() {
            client.shutdown();
        }
    }

    /** Starts the process (again, empty) on the same port and waits until it accepts connections. */
    public void restart() {
        try {
            process = new ProcessBuilder(List.of(BINARY.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--protected-mode", "no"))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Await.until("redis-server on port " + port, this::accepting);
    }

    private boolean accepting() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** kill -9. */
    public void kill() {
        try {
            process.destroyForcibly().waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends a POSIX signal, e.g. {@code "STOP"} to freeze it, {@code "CONT"} to thaw it. */
    public void signal(String name) {
        try {
            new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start().waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        signal("CONT");
        kill();
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
