package dev.switchboard.outbound;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.Consumer;

/**
 * One WebSocket connection as its {@link OutboundQueue} sees it: a way to send a text frame (and
 * the binary frames of a packet with attachments) and to close. On the server, the JSR 356 glue implements it over a {@code jakarta.websocket.Session}
 * (the core never imports {@code jakarta.websocket}); the Java client implements it over the JDK's
 * {@code java.net.http.WebSocket}.
 *
 * <pre>{@code
 * Transport transport = new Transport() {
 *     public void send(String text, Consumer<Throwable> done) { session.getAsyncRemote().sendText(text, r -> done.accept(r.getException())); }
 *     public void close(int code, String reason) { closeQuietly(session, code, reason); }
 * };
 * }</pre>
 */
public interface Transport {
    /**
     * Starts sending one text frame without blocking. The caller guarantees that at most one send
     * is outstanding ({@link OutboundQueue} does), because some containers throw otherwise.
     *
     * @param done called once when the frame is written ({@code null}) or failed (the error);
     *             possibly on the calling thread before this method returns
     */
    void send(String text, Consumer<Throwable> done);

    /**
     * Starts sending one binary frame without blocking, under the same one-send-at-a-time rule
     * as {@link #send}; the queue sends a packet's binary frames right after its text. A transport
     * that carries only text fails it.
     *
     * @param data the frame's bytes, read from its position to its limit; not kept after {@code done}
     */
    default void sendBinary(ByteBuffer data, Consumer<Throwable> done) {
        done.accept(new UnsupportedOperationException("this transport sends text frames only"));
    }

    /**
     * Whether {@link #sendUtf8} works here: a container whose API takes a text frame's payload as
     * bytes, so that a broadcast is encoded to UTF-8 once and not once per recipient.
     */
    default boolean supportsUtf8Payload() {
        return false;
    }

    /**
     * As {@link #send}, with the text already in UTF-8 (the frame's payload, not a framed message).
     * Called only where {@link #supportsUtf8Payload} says true.
     *
     * @param payload read-only and shared with other connections: read a {@code duplicate()}, never
     *                the buffer itself
     */
    default void sendUtf8(ByteBuffer payload, Consumer<Throwable> done) {
        throw new UnsupportedOperationException("this transport sends text only");
    }

    /** Closes the connection with a WebSocket close code; never blocks the caller; idempotent. */
    void close(int code, String reason);

    /**
     * Whether the connection still takes frames: false once either side began to close it.
     * {@link OutboundQueue} checks it before each send, so that a container answering a client's
     * close frame waits for at most the frame in flight. Transports that cannot tell say true.
     */
    default boolean isOpen() {
        return true;
    }

    /**
     * A way to write frames already framed for the wire, skipping {@link #send}'s encoding and
     * framing per recipient, or {@code null} (the default) where the container offers none: then
     * every frame goes through {@link #send}. Asked once, when the connection's queue is made.
     */
    default FrameWriter frameWriter() {
        return null;
    }

    /**
     * Runs {@code report}, the news that a send failed, once the client's input read before it has
     * been handled. A send fails when the client went away, and what the client sent before going
     * still counts: where input waits to be handled (the standalone server's inbox), the failure
     * waits behind it, as the container's report of the close does. At once by default, for
     * transports that handle input on the thread that read it.
     */
    default void afterInputRead(Runnable report) {
        report.run();
    }

    /**
     * The transports the client may move this connection to, announced in the server's first
     * packet: none by default. A client offered one opens it as a probe, so only a transport
     * that can hand its connection over offers any (Socket.IO's long-polling offers {@code websocket}).
     */
    default List<String> upgrades() {
        return List.of();
    }

    /** How the frames travel, for the figures: {@code websocket}, or {@code polling} for HTTP long-polling. */
    default String name() {
        return "websocket";
    }
}
