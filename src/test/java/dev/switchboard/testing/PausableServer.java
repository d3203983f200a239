package dev.switchboard.testing;

import dev.switchboard.server.Switchboard;
import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.transport.grizzly.StandaloneServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * A Switchboard on the standalone server in its own JVM, so a test can freeze it (SIGSTOP) and
 * thaw it (SIGCONT) as a stalled machine would, while its clients go on sending. Its one
 * namespace answers every {@code tick} event's ack with the event's argument.
 */
public final class PausableServer implements AutoCloseable {
    private final Process process;
    private final URI webSocketUri;

    private PausableServer(Process process, URI webSocketUri) {
        this.process = process;
        this.webSocketUri = webSocketUri;
    }

    /** Starts the server with this incoming event rate and burst; returns once it listens. */
    public static PausableServer start(double eventsPerSecond, int eventBurst) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(List.of(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                PausableServer.class.getName(), Double.toString(eventsPerSecond), Integer.toString(eventBurst)))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (line == null || !line.startsWith("ws://")) {
            process.destroyForcibly();
            throw new IOException("the server process did not start: " + line);
        }
        return new PausableServer(process, URI.create(line));
    }

    public URI webSocketUri() {
        return webSocketUri;
    }

    /** Freezes the whole process: nothing in it runs, and the kernel holds what clients send. */
    public void pause() throws IOException, InterruptedException {
        signal("STOP");
    }

    public void resume() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String name) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start().waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    public static void main(String[] args) throws InterruptedException {
        Switchboard server = Switchboard.create(SwitchboardOptions.builder()
                .eventRate(Double.parseDouble(args[0]), Integer.parseInt(args[1])).build());
        server.onConnection(socket -> socket.on("tick", event -> event.ack(event.arg(0, int.class))));
        StandaloneServer http = StandaloneServer.start(server, "127.0.0.1", 0, Path.of("webapp"));
        System.out.println(http.webSocketUri());
        Thread.currentThread().join();
    }
}
