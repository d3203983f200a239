package dev.switchboard.transport.grizzly;

import dev.switchboard.outbound.FrameWriter;
import java.nio.ByteBuffer;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;
import org.glassfish.grizzly.Buffer;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.EmptyCompletionHandler;
import org.glassfish.grizzly.WriteResult;
import org.glassfish.grizzly.memory.Buffers;
import org.glassfish.grizzly.memory.BuffersBuffer;
import org.glassfish.grizzly.memory.MemoryManager;

/**
 * Writes framed WebSocket frames onto an upgraded Grizzly connection, as Tyrus's own writer for
 * the connection does with the frames Tyrus makes, minus Tyrus's per-send encoding, framing and
 * task queue. The write goes down the connection's filter chain (TLS included) into Grizzly's
 * write queue for the connection, which takes each write whole: Tyrus's pings, pongs and close
 * frames, written the same way, never land inside one of ours. The completion runs when Grizzly
 * has handed the last byte to the socket, not when it queued the write.
 *
 * <p>Thread-safe: Grizzly's connection takes writes from any thread.
 */
final class GrizzlyFrameWriter implements FrameWriter {
    private final Connection<?> connection;

    GrizzlyFrameWriter(Connection<?> connection) {
        this.connection = connection;
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
        ((Connection) connection).write(message, new Completion(done));
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
