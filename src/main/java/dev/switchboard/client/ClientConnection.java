package dev.switchboard.client;

import java.net.URI;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One WebSocket of a {@link SwitchboardClient}: every (re)connection attempt gets a new one, so
 * late callbacks of a dead WebSocket are told apart by identity and ignored.
 *
 * <p>It does two things. Inbound, it assembles partial text messages and hands whole frames to
 * the client, asking the JDK for the next message only when this one is handled. Outbound, it
 * queues frames and keeps exactly one {@code sendText} outstanding, as the JDK requires.
 *
 * <p>Lock order: the client's lock may be held when calling into this class; this class never
 * calls the client while holding its own monitor.
 */
final class ClientConnection implements WebSocket.Listener {
    private final SwitchboardClient client;

    // Owned by the listener thread: the JDK never runs two listener methods at once.
    private final StringBuilder partial = new StringBuilder();

    // All guarded by this.
    private final ArrayDeque<String> outbox = new ArrayDeque<>();
    private WebSocket webSocket;   // set by onOpen
    private CompletableFuture<WebSocket> opening;  // the opening handshake, until onOpen
    private boolean writing;       // a send is outstanding, or the writer loop is running
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

    /** Queues a text frame; frames queued after {@link #close} or {@link #abort} are dropped. */
    void send(String text) {
        synchronized (this) {
            if (closing || aborted) {
                return;
            }
            outbox.add(text);
            if (writing || webSocket == null) {
                return;
            }
            writing = true;
        }
        writeLoop();
    }

    /** Sends the queued frames, then a Close frame; a handshake still under way is cancelled, see {@link #abort()}. */
    void close(int code, String reason) {
        CompletableFuture<WebSocket> handshake;
        boolean write;
        synchronized (this) {
            if (closing || aborted) {
                return;
            }
            closing = true;
            closeCode = code;
            closeReason = reason;
            handshake = webSocket == null ? opening : null;
            write = webSocket != null && !writing;
            writing |= write;
        }
        if (handshake != null) {
            handshake.cancel(true);
        }
        if (write) {
            writeLoop();
        }
    }

    /**
     * Drops the TCP connection at once; queued frames are lost. A handshake still under way is
     * cancelled: were the server to drop it, the JDK would otherwise send the upgrade request
     * again on a new TCP connection (it retries idempotent requests once), which nobody wants.
     */
    void abort() {
        WebSocket ws;
        CompletableFuture<WebSocket> handshake;
        synchronized (this) {
            aborted = true;
            outbox.clear();
            ws = webSocket;
            handshake = opening;
        }
        if (handshake != null) {
            handshake.cancel(true);
        }
        if (ws != null) {
            ws.abort();
        }
    }

    /**
     * Writes queued frames one at a time. A send that completes at once is followed in this loop
     * rather than from its completion handler, so a long queue cannot grow the stack.
     */
    private void writeLoop() {
        while (true) {
            WebSocket ws;
            String text;
            synchronized (this) {
                ws = webSocket;
                text = aborted ? null : outbox.poll();
                if (text == null && (!closing || aborted)) {
                    writing = false;
                    return;
                }
            }
            CompletableFuture<WebSocket> sent;
            try {
                sent = text != null ? ws.sendText(text, true) : ws.sendClose(closeCode(), closeReason());
            } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
            }
            if (text == null) {
                // The Close frame is the last one; `writing` stays true so nothing follows it.
                sent.whenComplete((w, error) -> {
                    if (error != null) {
                        abort();
                    }
                });
                return;
            }
            if (sent.isDone() && !sent.isCompletedExceptionally()) {
                continue;
            }
            sent.whenComplete((w, error) -> {
                if (error != null) {
                    sendFailed(error);
                } else {
                    writeLoop();
                }
            });
            return;
        }
    }

    private void sendFailed(Throwable error) {
        synchronized (this) {
            writing = false;
        }
        abort();
        // Reported from a timer thread: this may run inside send(), under the client's lock,
        // in the middle of a state change that must not be interleaved with a disconnect.
        client.runLater(() -> client.connectionFailed(this, error));
    }

    private synchronized int closeCode() {
        return closeCode;
    }

    private synchronized String closeReason() {
        return closeReason == null ? "" : closeReason;
    }

    @Override
    public void onOpen(WebSocket ws) {
        boolean flush;
        boolean dead;
        synchronized (this) {
            webSocket = ws;
            dead = aborted;
            flush = !dead && !writing && (!outbox.isEmpty() || closing);
            writing |= flush;
        }
        if (dead) {
            ws.abort();
            return;
        }
        if (flush) {
            writeLoop();
        }
        client.connectionOpened(this);
        ws.request(1);
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
        // Protocol version 1 has no binary frames; a server does not send them.
        client.binaryReceived(this);
        ws.request(1);
        return null;
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
}
