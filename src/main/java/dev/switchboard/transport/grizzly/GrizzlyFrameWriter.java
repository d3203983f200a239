package dev.switchboard.transport.grizzly;

import dev.switchboard.outbound.FrameWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;
import org.glassfish.grizzly.Buffer;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.EmptyCompletionHandler;
import org.glassfish.grizzly.WriteResult;
import org.glassfish.grizzly.IOEvent;
import org.glassfish.grizzly.asyncqueue.AsyncWriteQueueRecord;
import org.glassfish.grizzly.asyncqueue.TaskQueue;
import org.glassfish.grizzly.memory.Buffers;
import org.glassfish.grizzly.memory.BuffersBuffer;
import org.glassfish.grizzly.memory.MemoryManager;
import org.glassfish.grizzly.nio.NIOConnection;
import org.glassfish.grizzly.ssl.SSLUtils;

/**
 * Writes framed WebSocket frames onto an upgraded Grizzly connection, as Tyrus's own writer for
 * the connection does with the frames Tyrus makes, minus Tyrus's per-send encoding, framing and
 * task queue. The completion runs when the last byte is handed to the socket, not when the write
 * is queued.
 *
 * <p>Without TLS this writes to the socket itself when nothing else is being written to the
 * connection, as Grizzly's write queue does, but without the queue's record, monitoring probes and
 * re-entry count per write, which on a broadcast were most of a delivery's user CPU (see
 * docs/BENCHMARKS.md). It keeps the queue's rule, so Tyrus's pings, pongs and close frames, which
 * go through that queue, never land inside one of ours: the bytes a write reserves in the queue
 * are its lock. Whoever reserves into an empty queue owns the socket until it releases what it
 * reserved, and other writes wait in the queue, written by the selector thread once the owner
 * lets go. What the socket does not take becomes the queue's current write, finished by the
 * selector thread once the socket drains.
 *
 * <p>Over TLS the write goes down the connection's filter chain, whose TLS filter encrypts it
 * (under the connection's lock, as it does Tyrus's).
 *
 * <p>Thread-safe: any thread may write; the queue's reserved bytes order the writers.
 */
final class GrizzlyFrameWriter implements FrameWriter {
    private final NIOConnection connection;
    /** The connection's socket, or null over TLS: then the filter chain writes. */
    private final SocketChannel channel;

    GrizzlyFrameWriter(Connection<?> connection) {
        this.connection = (NIOConnection) connection;
        this.channel = SSLUtils.getSSLEngine(connection) == null && this.connection.getChannel() instanceof SocketChannel socket
                ? socket : null;
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"}) // Grizzly's write is typed by the connection's address type, unknown here
    public void write(ByteBuffer[] frames, Consumer<Throwable> done) {
        if (channel == null) {
            ((Connection) connection).write(wrap(frames), new Completion(done));
            return;
        }
        if (!connection.isOpen()) {
            done.accept(new IOException("connection closed"));
            return;
        }
        int size = 0;
        for (ByteBuffer frame : frames) {
            size += frame.remaining();
        }
        TaskQueue<AsyncWriteQueueRecord> writes = connection.getAsyncWriteQueue();
        if (writes.reserveSpace(size) != size) {
            // Another write has the socket: this one waits behind it, and the selector writes it.
            writes.offer(record(frames, done));
            return;
        }
        long written;
        try {
            written = frames.length == 1 ? channel.write(frames[0]) : channel.write(frames);
        } catch (IOException e) {
            connection.closeSilently();
            done.accept(e);
            return;
        }
        // From here as Grizzly's own direct write ends (AbstractNIOAsyncQueueWriter.write).
        if (written < size) {
            // The socket is full: the rest is the queue's current write, done when the socket drains.
            writes.releaseSpaceAndNotify((int) written);
            writes.setCurrentElement(record(frames, done));
            handToSelector(true);
            return;
        }
        if (writes.releaseSpaceAndNotify(size) != 0) {
            // Writes were queued behind this one meanwhile.
            handToSelector(false);
        }
        done.accept(null);
    }

    /** Has the selector thread write what the queue holds: once the socket is writable, or now. */
    private void handToSelector(boolean whenWritable) {
        try {
            if (whenWritable) {
                connection.enableIOEvent(IOEvent.WRITE);
            } else {
                connection.simulateIOEvent(IOEvent.WRITE);
            }
        } catch (IOException e) {
            // Closed meanwhile: closing fails what the queue holds.
            connection.closeSilently();
        }
    }

    private AsyncWriteQueueRecord record(ByteBuffer[] frames, Consumer<Throwable> done) {
        return AsyncWriteQueueRecord.create(connection, wrap(frames), new Completion(done), null, null, false);
    }

    private Buffer wrap(ByteBuffer[] frames) {
        MemoryManager<?> memory = connection.getMemoryManager();
        if (frames.length == 1) {
            return Buffers.wrap(memory, frames[0]);
        }
        Buffer[] parts = new Buffer[frames.length];
        for (int i = 0; i < frames.length; i++) {
            parts[i] = Buffers.wrap(memory, frames[i]);
        }
        return BuffersBuffer.create(memory, parts);
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
