package dev.switchboard.outbound;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * Writes whole WebSocket frames, header included, straight onto a connection: what a
 * {@link Transport} offers ({@link Transport#frameWriter()}) when it can skip the container's
 * own send path. A broadcast frames its message once and every recipient's {@link OutboundQueue}
 * hands the same bytes here, several queued frames in one gathering write.
 *
 * <pre>{@code
 * FrameWriter writer = (frames, done) -> channel.write(frames, null, completionHandlerCalling(done));
 * }</pre>
 */
@FunctionalInterface
public interface FrameWriter {
    /**
     * Starts writing {@code frames}, in order, without blocking. Each goes onto the connection whole:
     * the container's own frames (pings, pongs, close) may come before or after, never inside one.
     *
     * @param frames buffers of their own whose positions the writer may move
     * @param done   called once when every byte is written to the socket ({@code null}) or the write
     *               failed (the error); not when merely queued, so that the send queue's byte bound
     *               still bounds what a peer that stops reading holds; possibly on the calling
     *               thread before this method returns
     */
    void write(ByteBuffer[] frames, Consumer<Throwable> done);
}
