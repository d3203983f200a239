package dev.switchboard.testing;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * A protocol-level test client on the JDK's WebSocket: sends frames as written, records every
 * frame received, answers pings unless told not to, and can stop reading altogether.
 */
public final class RawClient implements AutoCloseable {
    public static final Duration WAIT = Duration.ofSeconds(10);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final BlockingQueue<String> frames = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    private volatile boolean reading = true;
    private volatile boolean answerPings = true;
    private volatile boolean keepFrames = true;
    private final java.util.concurrent.atomic.AtomicInteger framesReceived = new java.util.concurrent.atomic.AtomicInteger();
    private WebSocket webSocket;

    private RawClient() {
    }

    public static RawClient connect(URI uri) {
        return connect(uri, Map.of());
    }

    public static RawClient connect(URI uri, Map<String, String> headers) {
        return connect(HTTP, uri, headers);
    }

    /** Connects over {@code wss://}, trusting what {@code tls} trusts. */
    public static RawClient connect(URI uri, javax.net.ssl.SSLContext tls) {
        return connect(HttpClient.newBuilder().sslContext(tls).build(), uri, Map.of());
    }

    private static RawClient connect(HttpClient http, URI uri, Map<String, String> headers) {
        RawClient client = new RawClient();
        WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(WAIT);
        headers.forEach(builder::header);
        client.webSocket = builder.buildAsync(uri, client.new Listener()).join();
        return client;
    }

    /** Sends one text frame (waits until it is written). */
    public synchronized RawClient send(String text) {
        webSocket.sendText(text, true).join();
        return this;
    }

    /** Sends one binary frame (waits until it is written). */
    public synchronized RawClient sendBinary(java.nio.ByteBuffer data) {
        webSocket.sendBinary(data, true).join();
        return this;
    }

    /** Sends a JSON text written with single quotes for readability. */
    public RawClient sendJson(String singleQuoted) {
        return send(singleQuoted.replace('\'', '"'));
    }

    /** The next frame received. */
    public String next() {
        try {
            String frame = frames.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (frame == null) {
                throw new AssertionError("no frame within " + WAIT);
            }
            return frame;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The next frame parsed as a JSON object. */
    public JsonObject nextPacket() {
        return parse(next());
    }

    /**
     * Connects to the main namespace as {@code user} (the tests' middleware reads {@code auth.user}),
     * recovering {@code pid} from {@code offset} when they are given; returns the connect answer.
     */
    public JsonObject connectAs(String user, String pid, String offset) {
        sendConnect(user, pid, offset);
        return next(p -> p.getString("type").startsWith("connect"));
    }

    /** Sends the connect of {@link #connectAs} without waiting for its answer. */
    public RawClient sendConnect(String user, String pid, String offset) {
        StringBuilder connect = new StringBuilder("{\"type\":\"connect\",\"auth\":{\"user\":\"" + user + "\"}");
        if (pid != null) {
            connect.append(",\"pid\":\"").append(pid).append('"');
        }
        if (offset != null) {
            connect.append(",\"offset\":\"").append(offset).append('"');
        }
        return send(connect.append('}').toString());
    }

    /** Skips frames until one of this type arrives. */
    public JsonObject next(String type) {
        return next(packet -> type.equals(packet.getString("type", null)));
    }

    /** Skips frames until one matches. */
    public JsonObject next(Predicate<JsonObject> wanted) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            JsonObject packet = nextPacket();
            if (wanted.test(packet)) {
                return packet;
            }
        }
        throw new AssertionError("no matching frame within " + WAIT);
    }

    /** Frames received but not yet taken, without waiting. */
    public String poll(Duration wait) throws InterruptedException {
        return frames.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Connects a namespace and returns the server's answer (connect or connect_error). */
    public JsonObject connectNamespace(String namespace, String authJson) {
        String nsp = "/".equals(namespace) ? "" : ",\"nsp\":\"" + namespace + "\"";
        String auth = authJson == null ? "" : ",\"auth\":" + authJson;
        send("{\"type\":\"connect\"" + nsp + auth + "}");
        return next(packet -> {
            String type = packet.getString("type", "");
            return (type.equals("connect") || type.equals("connect_error"))
                    && namespace.equals(packet.getString("nsp", "/"));
        });
    }

    /** Stops asking the server for frames: TCP buffers fill up and the server's sends stall. */
    public void stopReading() {
        reading = false;
    }

    /** Asks for frames again after {@link #stopReading()}. */
    public void resumeReading() {
        reading = true;
        webSocket.request(1);
    }

    /** Reads and drops every frame from now on (for floods a test does not inspect). */
    public void discardFrames() {
        keepFrames = false;
        frames.clear();
    }

    /** Stops answering pings, as a client whose network went silent. */
    public void stopAnsweringPings() {
        answerPings = false;
    }

    /** How many frames (pings aside) have arrived so far, read by the test or not. */
    public int framesReceived() {
        return framesReceived.get();
    }

    /** Waits for the server to close; returns the close code. */
    public int awaitClose() {
        try {
            return closeCode.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new AssertionError("connection not closed within " + WAIT, e);
        }
    }

    public boolean isClosed() {
        return closeCode.isDone();
    }

    /** Drops the TCP connection without a close frame. */
    public void abort() {
        webSocket.abort();
    }

    /**
     * Leaves as a well-behaved client does: sends a close frame, reads on until the server's
     * close frame answers it (at most {@link #WAIT}), then drops the connection.
     */
    public void leave() {
        webSocket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS)
                .exceptionally(e -> null).join();
        resumeReading();
        closeCode.completeOnTimeout(-1, WAIT.toMillis(), TimeUnit.MILLISECONDS).join();
        webSocket.abort();
    }

    @Override
    public void close() {
        if (!webSocket.isOutputClosed()) {
            webSocket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").orTimeout(2, TimeUnit.SECONDS).exceptionally(e -> null).join();
        }
        webSocket.abort();
    }

    public static JsonObject parse(String frame) {
        return Json.createReader(new StringReader(frame)).readObject();
    }

    private final class Listener implements WebSocket.Listener {
        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String frame = partial.toString();
                partial.setLength(0);
                if (frame.equals("{\"type\":\"ping\"}")) {
                    if (answerPings) {
                        synchronized (RawClient.this) {
                            ws.sendText("{\"type\":\"pong\"}", true).join();
                        }
                    }
                } else if (keepFrames) {
                    frames.add(frame);
                    framesReceived.incrementAndGet();
                }
            }
            if (reading) {
                ws.request(1);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closeCode.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closeCode.complete(1006);
        }
    }
}
