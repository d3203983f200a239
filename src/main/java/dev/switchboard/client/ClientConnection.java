package dev.switchboard.client;

import dev.switchboard.outbound.OutboundQueue;
import dev.switchboard.outbound.OutboundQueue.Offer;
import dev.switchboard.outbound.Transport;
import dev.switchboard.protocol.AttachmentAssembler;
import dev.switchboard.protocol.Frame;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * One WebSocket of a {@link SwitchboardClient}: every (re)connection attempt gets a new one, so
 * late callbacks of a dead WebSocket are told apart by identity and ignored.
 *
 * <p>It does two things. Inbound, it assembles partial text and binary messages, joins binary
 * packets to their attachments, and hands whole frames to the client, asking the JDK for the next message only when this one is handled. Outbound, it
 * writes through the same bounded single-writer {@link OutboundQueue} as the server: exactly one
 * {@code sendText} outstanding, as the JDK requires, and at most
 * {@link ClientOptions#sendQueueBytes()} queued, so a server that stops reading costs bounded
 * memory.
 *
 * <p>Lock order: the client's lock may be held when calling into this class; this class never
 * calls the client while holding its own monitor.
 */
final class ClientConnection implements WebSocket.Listener {
    /**
     * Bounds on what one packet from the server may carry: far above what a server sends (its
     * own limits are for what it receives), low enough that a broken one cannot exhaust the heap.
     */
    private static final int MAX_ATTACHMENTS = 1000;
    private static final long MAX_PACKET_BYTES = 256L << 20;
    private final SwitchboardClient client;

    // Owned by the listener thread: the JDK never runs two listener methods at once.
    private final StringBuilder partial = new StringBuilder();
    private final ByteArrayOutputStream partialBinary = new ByteArrayOutputStream();
    private final AttachmentAssembler attachments = new AttachmentAssembler(MAX_ATTACHMENTS, MAX_PACKET_BYTES);

    // All guarded by this.
    private WebSocket webSocket;   // set by onOpen
    private OutboundQueue queue;   // set by onOpen: the WebSocket's one writer
    private CompletableFuture<WebSocket> opening;  // the opening handshake, until onOpen
    private boolean closing;       // accept no more frames; send a Close after the queued ones
    private int closeCode;
    private String closeReason;
    private boolean aborted;

    ClientConnection(SwitchboardClient client) {
        this.client = client;
    }

    /** Starts the opening handshake; the result arrives at {@link #onOpen} or as a failure. */
    void open(WebSocket.Builder builder, URI uri) {
        CompletableFuture<WebSocket> handshake;
        try {
            handshake = builder.buildAsync(uri, this);
        } catch (RuntimeException e) {
            handshake = CompletableFuture.failedFuture(e);
        }
        boolean dead;
        synchronized (this) {
            opening = handshake;
            dead = aborted || closing;
        }
        if (dead) {
            // Closed before the handshake began: see abort().
            handshake.cancel(true);
        }
        handshake.whenComplete((ws, error) -> {
            if (error != null) {
                client.connectionFailed(this, error);
            }
        });
    }

    /**
     * Queues a frame; {@link Offer#CLOSED} before {@link #onOpen} and after {@link #close} or
     * {@link #abort}, {@link Offer#OVERFLOW} when {@link ClientOptions#sendQueueBytes()} are queued.
     *
     * @param droppable drop it instead when frames are already waiting (a volatile emit)
     */
    Offer send(Frame frame, boolean droppable) {
        OutboundQueue writer = writer();
        return writer == null ? Offer.CLOSED : writer.offer(frame.text(), frame.attachments(), null, frame.bytes(), droppable);
    }

    /**
     * Queues a pong whatever the bound, behind the frames already queued: a queue full of events
     * must not also cost the connection its heartbeat. One per ping, so few.
     */
    void sendPong(Frame frame) {
        OutboundQueue writer = writer();
        if (writer != null) {
            writer.offerBeyondBound(frame.text(), frame.bytes());
        }
    }

    /**
     * Whether a frame of {@code bytes} fits in the queue now; if not, {@code whenRoom} runs once
     * it does, on a writing thread (see {@link OutboundQueue#hasRoomFor}).
     */
    boolean hasRoomFor(int bytes, Runnable whenRoom) {
        OutboundQueue writer = writer();
        return writer == null || writer.hasRoomFor(bytes, whenRoom);
    }

    private synchronized OutboundQueue writer() {
        return queue;
    }

    /** Sends the queued frames, then a Close frame; a handshake still under way is cancelled, see {@link #abort()}. */
    void close(int code, String reason) {
        CompletableFuture<WebSocket> handshake;
        OutboundQueue writer;
        synchronized (this) {
            if (closing || aborted) {
                return;
            }
            closing = true;
            closeCode = code;
            closeReason = reason;
            writer = queue;
            handshake = writer == null ? opening : null;
        }
        if (handshake != null) {
            handshake.cancel(true);
        }
        if (writer != null) {
            writer.closeWhenDrained(code, reason);
        }
    }

    /**
     * Drops the TCP connection at once; queued frames are lost. A handshake still under way is
     * cancelled: were the server to drop it, the JDK would otherwise send the upgrade request
     * again on a new TCP connection (it retries idempotent requests once), which nobody wants.
     */
    void abort() {
        WebSocket ws;
        OutboundQueue writer;
        CompletableFuture<WebSocket> handshake;
        synchronized (this) {
            aborted = true;
            ws = webSocket;
            writer = queue;
            handshake = opening;
        }
        if (writer != null) {
            writer.close();
        }
        if (handshake != null) {
            handshake.cancel(true);
        }
        if (ws != null) {
            ws.abort();
        }
    }

    private void sendFailed(Throwable error) {
        abort();
        // Reported from a timer thread: this may run inside send(), under the client's lock,
        // in the middle of a state change that must not be interleaved with a disconnect.
        client.runLater(() -> client.connectionFailed(this, error));
    }

    @Override
    public void onOpen(WebSocket ws) {
        OutboundQueue writer = new OutboundQueue(new WebSocketTransport(ws), client.options().sendQueueBytes(),
                this::sendFailed);
        boolean dead;
        boolean closeNow;
        synchronized (this) {
            webSocket = ws;
            dead = aborted;
            queue = dead ? null : writer;
            closeNow = !dead && closing;
        }
        if (dead) {
            ws.abort();
            return;
        }
        if (closeNow) {
            writer.closeWhenDrained(closeCode(), closeReason());
        }
        client.connectionOpened(this);
        ws.request(1);
    }

    private synchronized int closeCode() {
        return closeCode;
    }

    private synchronized String closeReason() {
        return closeReason == null ? "" : closeReason;
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            String frame = partial.toString();
            partial.setLength(0);
            client.frameReceived(this, frame);
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        byte[] part = new byte[data.remaining()];
        data.get(part);
        partialBinary.writeBytes(part);
        if (last) {
            byte[] frame = partialBinary.toByteArray();
            partialBinary.reset();
            client.binaryReceived(this, frame);
        }
        ws.request(1);
        return null;
    }

    /** Joins binary packets to their attachments; the listener thread's. */
    AttachmentAssembler attachments() {
        return attachments;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
        client.connectionClosed(this, statusCode, reason);
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        client.connectionFailed(this, error);
    }

    /** The JDK's WebSocket as the queue's transport; the queue keeps one send outstanding, as the JDK requires. */
    private final class WebSocketTransport implements Transport {
        private final WebSocket ws;

        WebSocketTransport(WebSocket ws) {
            this.ws = ws;
        }

        @Override
        public void send(String text, Consumer<Throwable> done) {
            ws.sendText(text, true).whenComplete((sent, error) -> done.accept(error));
        }

        @Override
        public void sendBinary(ByteBuffer data, Consumer<Throwable> done) {
            ws.sendBinary(data, true).whenComplete((sent, error) -> done.accept(error));
        }

        @Override
        public void close(int code, String reason) {
            ws.sendClose(code, reason).whenComplete((sent, error) -> {
                if (error != null) {
                    abort();
                }
            });
        }

        @Override
        public boolean isOpen() {
            return !ws.isOutputClosed();
        }
    }
}
