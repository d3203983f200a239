package dev.switchboard.testing;

import dev.switchboard.client.ClientOptions;
import dev.switchboard.client.ClientSocket;
import dev.switchboard.client.SwitchboardClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A Java client (or, with {@link #startMain}, a server node) in its own JVM, so tests can kill it
 * (-9) or freeze it (SIGSTOP) as an operating system would. It prints one line per thing that happens: {@code connected <id> <recovered>},
 * {@code seq <n>}, {@code disconnected <reason>}.
 */
public final class ClientProcess implements AutoCloseable {
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    private ClientProcess(Process process) {
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "client-process-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts a client process connecting to {@code uri} as {@code user}. */
    public static ClientProcess start(URI uri, String user) throws IOException {
        return startMain(ClientProcess.class, "-Xmx64m", uri.toString(), user);
    }

    /** Runs another test class's {@code main} in its own JVM (a server node, say), on the test class path. */
    public static ClientProcess startMain(Class<?> main, String heap, String... args) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(java, heap, "-cp", System.getProperty("java.class.path"),
                main.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        return new ClientProcess(process);
    }

    /** The next line starting with {@code prefix}, skipping others; a new JVM on a busy machine may take seconds. */
    public String await(String prefix) throws InterruptedException {
        return await(prefix, Await.TIMEOUT);
    }

    /** The same, with more patience: a JVM that starts a server and connects to Redis on a busy machine. */
    public String await(String prefix, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line != null && line.startsWith(prefix)) {
                return line;
            }
        }
        throw new AssertionError("client process printed no '" + prefix + "' line");
    }

    public long pid() {
        return process.pid();
    }

    /** Sends a POSIX signal, e.g. {@code "STOP"} or {@code "CONT"}. */
    public void signal(String name) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + name, Long.toString(pid())).start().waitFor();
    }

    /** kill -9. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    @Override
    public void close() {
        try {
            kill();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static void main(String[] args) throws Exception {
        ClientOptions options = ClientOptions.builder().reconnectionDelay(Duration.ofMillis(50))
                .reconnectionDelayMax(Duration.ofMillis(200)).autoConnect(false).build();
        SwitchboardClient client = SwitchboardClient.connect(URI.create(args[0]), options);
        ClientSocket socket = client.socket("/", Map.of("user", args[1]));
        socket.on("seq", event -> System.out.println("seq " + event.arg(0, int.class)));
        socket.onConnect(() -> System.out.println("connected " + socket.id() + " " + socket.recovered()));
        socket.onDisconnect(reason -> System.out.println("disconnected " + reason));
        socket.connect();
        Thread.currentThread().join();
    }
}
