package dev.switchboard.transport.grizzly;

import dev.switchboard.outbound.FrameWriter;
import java.nio.ByteBuffer;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;
import org.glassfish.grizzly.Buffer;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.EmptyCompletionHandler;
import org.glassfish.grizzly.WriteResult;
import org.glassfish.grizzly.asyncqueue.AsyncQueueEnabledTransport;
import org.glassfish.grizzly.asyncqueue.AsyncQueueWriter;
import org.glassfish.grizzly.memory.Buffers;
import org.glassfish.grizzly.memory.BuffersBuffer;
import org.glassfish.grizzly.memory.MemoryManager;
import org.glassfish.grizzly.ssl.SSLUtils;

/**
 * Writes framed WebSocket frames onto an upgraded Grizzly connection, as Tyrus's own writer for
 * the connection does with the frames Tyrus makes, minus Tyrus's per-send encoding, framing and
 * task queue. Every write ends in Grizzly's write queue for the connection, which takes each
 * write whole: Tyrus's pings, pongs and close frames, which reach it the same way, never land
 * inside one of ours. The completion runs when Grizzly has handed the last byte to the socket,
 * not when it queued the write.
 *
 * <p>Over TLS the write goes down the connection's filter chain, whose TLS filter encrypts it
 * (under the connection's lock, as it does Tyrus's). Without TLS it goes to the write queue
 * directly: the filters above it pass an upgraded connection's bytes through untouched, and
 * walking them costs as much as the write itself.
 *
 * <p>Thread-safe: Grizzly's connection and write queue take writes from any thread.
 */
final class GrizzlyFrameWriter implements FrameWriter {
    private final Connection<?> connection;
    /** The transport's write queue, or null over TLS: then the filter chain. */
    private final AsyncQueueWriter<?> queue;

    GrizzlyFrameWriter(Connection<?> connection) {
        this.connection = connection;
        this.queue = SSLUtils.getSSLEngine(connection) == null && connection.getTransport() instanceof AsyncQueueEnabledTransport transport
                ? transport.getAsyncQueueIO().getWriter() : null;
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"}) // Grizzly's write is typed by the connection's address type, unknown here
    public void write(ByteBuffer[] frames, Consumer<Throwable> done) {
        MemoryManager<?> memory = connection.getMemoryManager();
        Buffer message;
        if (frames.length == 1) {
            message = Buffers.wrap(memory, frames[0]);
        } else {
            Buffer[] parts = new Buffer[frames.length];
            for (int i = 0; i < frames.length; i++) {
                parts[i] = Buffers.wrap(memory, frames[i]);
            }
            message = BuffersBuffer.create(memory, parts);
        }
        if (queue != null) {
            ((AsyncQueueWriter) queue).write(connection, message, new Completion(done));
        } else {
            ((Connection) connection).write(message, new Completion(done));
        }
    }

    private static final class Completion extends EmptyCompletionHandler<WriteResult> {
        private final Consumer<Throwable> done;

        Completion(Consumer<Throwable> done) {
            this.done = done;
        }

        @Override
        public void completed(WriteResult result) {
            done.accept(null);
        }

        @Override
        public void failed(Throwable error) {
            done.accept(error);
        }

        @Override
        public void cancelled() {
            done.accept(new CancellationException("write cancelled"));
        }
    }
}
