package dev.switchboard.testing;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.io.Writer;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;

/**
 * The official {@code socket.io-client} from npm in a Node process ({@code src/test/node/socketio-client.js}),
 * driven by JSON commands; it reports what its sockets see as JSON lines, taken in order with {@link #next}.
 * Tests are skipped with a hint when Node or the npm packages are missing ({@code .ci/run} installs them).
 */
public final class NodeClient implements AutoCloseable {
    private static final Path FOLDER = Path.of("src", "test", "node");

    private final Process process;
    private final Writer commands;
    private final BlockingQueue<JsonObject> reports = new LinkedBlockingQueue<>();
    /** Reports read but not taken yet, in order; on the test's thread only. */
    private final List<JsonObject> unclaimed = new ArrayList<>();

    private NodeClient(Process process) {
        this.process = process;
        this.commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    reports.add(Json.createReader(new StringReader(line)).readObject());
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "node-client-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts the Node process, or skips the test when Node or socket.io-client is not installed. */
    public static NodeClient start() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(FOLDER.resolve("node_modules").resolve("socket.io-client")),
                "socket.io-client not installed: run (cd src/test/node && npm ci)");
        Process process;
        try {
            process = new ProcessBuilder(List.of("node", "socketio-client.js")).directory(FOLDER.toFile())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            Assumptions.abort("node not installed: " + e.getMessage());
            throw e;
        }
        return new NodeClient(process);
    }

    /** Sends one command, written with single quotes for readability. */
    public synchronized NodeClient send(String singleQuoted) throws IOException {
        commands.write(singleQuoted.replace('\'', '"') + "\n");
        commands.flush();
        return this;
    }

    /** The first report not taken yet of socket {@code name} with {@code type}. */
    public JsonObject next(String name, String type) throws InterruptedException {
        return next(report -> name.equals(report.getString("name")) && type.equals(report.getString("type")));
    }

    /** The first report not taken yet that {@code wanted} accepts; the others stay for later calls. */
    public JsonObject next(Predicate<JsonObject> wanted) throws InterruptedException {
        for (Iterator<JsonObject> it = unclaimed.iterator(); it.hasNext(); ) {
            JsonObject report = it.next();
            if (wanted.test(report)) {
                it.remove();
                return report;
            }
        }
        long deadline = System.nanoTime() + RawClient.WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            JsonObject report = reports.poll(100, TimeUnit.MILLISECONDS);
            if (report != null && wanted.test(report)) {
                return report;
            }
            if (report != null) {
                unclaimed.add(report);
            }
        }
        throw new AssertionError("the Node client reported nothing matching; unclaimed: " + unclaimed);
    }

    /** Forgets the reports of socket {@code name} with {@code type} read so far and not taken: only later ones count. */
    public void forgetEarlier(String name, String type) {
        unclaimed.removeIf(report -> name.equals(report.getString("name")) && type.equals(report.getString("type")));
    }

    /** The next event {@code event} that socket {@code name} received. */
    public JsonObject nextEvent(String name, String event) throws InterruptedException {
        return next(report -> name.equals(report.getString("name")) && "event".equals(report.getString("type"))
                && event.equals(report.getString("event")));
    }

    /** A report's first argument as text, whatever its JSON type. */
    public static String firstArg(JsonObject report) {
        JsonValue first = report.getJsonArray("args").get(0);
        return first.getValueType() == JsonValue.ValueType.STRING ? report.getJsonArray("args").getString(0) : first.toString();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }
}
