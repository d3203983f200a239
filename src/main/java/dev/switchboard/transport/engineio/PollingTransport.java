package dev.switchboard.transport.engineio;

import dev.switchboard.server.Connection;
import dev.switchboard.outbound.Transport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Queue;
import java.util.function.Consumer;

/**
 * The transport of one Engine.IO session: HTTP long-polling first, a WebSocket once the client
 * upgrades. Packets the server sends wait in a buffer for the client's next GET, which takes them
 * all, separated by the record separator; the buffer holds up to {@code maxPayload} bytes before
 * the sender is told to wait, so the connection's send queue stays the bound. On the upgrade the
 * packets still buffered go over the WebSocket first, in order, and the rest after them. A binary
 * frame travels in a polling payload as Engine.IO v4 has it: {@code b} and its bytes in base64.
 *
 * <p>Threads: everything under {@code this}; the packets of one POST at a time go to the connection
 * outside it ({@link #startReceiving}); answers to requests and completion callbacks run after
 * {@code this} is released.
 */
final class PollingTransport implements Transport {
    /** Separates packets in a polling payload. */
    static final char RECORD_SEPARATOR = '\u001e';
    static final String NOOP = "6";
    static final String CLOSE = "1";
    /**
     * What the connection hears when the client's close packet ends the session. engine.io-client
     * sends it whenever it closes its polling transport, after a failed request too; a client
     * that leaves on purpose says so per namespace first ({@code 41}). So, as for the reference
     * server, it is the transport closing, which recovery covers, not the client leaving.
     */
    private static final int CLIENT_TRANSPORT_CLOSED = 1005;
    /** Marks a binary packet in a polling payload, its bytes in base64 after it. */
    static final char BINARY = 'b';

    private final EngineIo engine;
    private final long bufferLimit;
    /** Set while one POST's packets go to the connection, which reads one message at a time as from a WebSocket. */
    private boolean receivingPost;
    /** Set once the server has opened its connection; polling requests before that cannot happen. */
    private Connection connection;
    private final List<String> buffered = new ArrayList<>();
    private long bufferedBytes;
    /** The completion of the send that filled the buffer, called when a GET takes it. */
    private Consumer<Throwable> heldDone;
    /** The GET waiting for packets, or null. */
    private PollRequest waiting;
    private boolean closed;
    /** The code {@link #close} was called with, for a connection registered after it. */
    private int closeCode;
    /** Set once the client probed a WebSocket: from then on a GET never waits, so the client can pause polling. */
    private boolean probed;
    /** The WebSocket probing to take this session over, one at a time, until it does or ends. */
    private Transport probe;
    /** The WebSocket after the upgrade, or null while polling. */
    private Transport webSocket;
    /** Sends for the WebSocket behind the ones still draining from the buffer, in order. */
    private final Queue<Pending> backlog = new ArrayDeque<>();
    private boolean draining;
    /**
     * A close asked while the backlog drains, carried out once it has: the connection's queue
     * closes once its own sends completed, and those buffered before the upgrade completed when
     * they were buffered, so the close would otherwise overtake them. A second close (the
     * connection's deadline, for a drain that never ends) closes at once.
     */
    private CloseAfterDrain closeAfterDrain;

    private record CloseAfterDrain(int code, String reason) {
    }

    /** A frame for the WebSocket: {@code text}, or {@code binary} when that is null, or neither for a completion only. */
    private record Pending(String text, ByteBuffer binary, Consumer<Throwable> done) {
        void sendOver(Transport target, Consumer<Throwable> sent) {
            if (text != null) {
                target.send(text, sent);
            } else {
                target.sendBinary(binary, sent);
            }
        }
    }

    PollingTransport(EngineIo engine, long bufferLimit) {
        this.engine = engine;
        this.bufferLimit = bufferLimit;
    }

    /**
     * Hands the session its connection, unless the transport closed meanwhile: then the close
     * could not report to it, and the caller must.
     *
     * @return whether the session is open and the connection set
     */
    synchronized boolean connection(Connection value) {
        if (closed) {
            return false;
        }
        connection = value;
        return true;
    }

    /** Closed over polling with {@code code}, its close not yet taken by a GET (which then forgets the session). */
    synchronized boolean awaitsFinalPoll(int code) {
        return closed && webSocket == null && closeCode == code;
    }

    synchronized int closeCode() {
        return closeCode;
    }

    synchronized Connection connection() {
        return connection;
    }

    synchronized boolean upgraded() {
        return webSocket != null;
    }

    @Override
    public String name() {
        return upgraded() ? "websocket" : "polling";
    }

    @Override
    public List<String> upgrades() {
        return List.of("websocket");
    }

    @Override
    public void send(String text, Consumer<Throwable> done) {
        send(new Pending(text, null, done));
    }

    @Override
    public void sendBinary(ByteBuffer data, Consumer<Throwable> done) {
        send(new Pending(null, data, done));
    }

    private void send(Pending frame) {
        Consumer<Throwable> done = frame.done();
        PollRequest answer;
        String payload;
        Consumer<Throwable> released;
        // Decided under the lock: a frame goes either into the buffer or straight over the WebSocket, never both.
        Transport direct = null;
        synchronized (this) {
            if (webSocket != null) {
                if (draining) {
                    backlog.add(frame);
                    return;
                }
                direct = webSocket;
                answer = null;
            } else if (closed) {
                answer = null;
                done = failed(done);
            } else {
                String text = frame.text() != null ? frame.text()
                        : BINARY + Base64.getEncoder().encodeToString(bytesOf(frame.binary()));
                buffered.add(text);
                bufferedBytes += text.length();
                if (bufferedBytes >= bufferLimit) {
                    heldDone = done;
                    done = null;
                }
                answer = waiting;
            }
            if (answer != null) {
                waiting = null;
                payload = takeBuffered();
                released = takeHeldDone();
            } else {
                payload = null;
                released = null;
            }
        }
        if (direct != null) {
            frame.sendOver(direct, done);
            return;
        }
        if (answer != null) {
            answer.answer(200, EngineIo.TEXT, payload);
        }
        complete(done);
        complete(released);
    }

    private static byte[] bytesOf(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    private static Consumer<Throwable> failed(Consumer<Throwable> done) {
        return ignored -> done.accept(new IOException("the polling session is closed"));
    }

    private static void complete(Consumer<Throwable> done) {
        if (done != null) {
            done.accept(null);
        }
    }

    /** A GET from the client: answered now with what is buffered, or when something is. */
    void poll(PollRequest request) {
        String payload = null;
        Consumer<Throwable> released = null;
        boolean overlap = false;
        boolean gone = false;
        boolean finalAnswer = false;
        synchronized (this) {
            if (webSocket != null) {
                gone = true;
            } else if (waiting != null) {
                overlap = true;
            } else if (closed) {
                // What the server sent before it closed, then the close alone: socket.io-client
                // drops the events of a payload that also carries the close (it hands events on a
                // tick later, after the close has ended the socket), as the reference server knows.
                finalAnswer = buffered.isEmpty();
                payload = finalAnswer ? CLOSE : takeBuffered();
            } else if (!buffered.isEmpty()) {
                payload = takeBuffered();
                released = takeHeldDone();
            } else if (probed) {
                payload = NOOP;
            } else {
                waiting = request;
            }
        }
        if (gone) {
            // Upgraded meanwhile: the session lives on over the WebSocket, polling is over.
            request.answer(400, EngineIo.JSON, EngineIo.error(1, "Session ID unknown"));
            return;
        }
        if (overlap) {
            // As the reference server: a second GET at once is the client's error, and ends the session.
            request.answer(400, EngineIo.JSON, EngineIo.error(3, "Bad request"));
            Connection current = connection();
            if (current != null) {
                current.onTransportError(new IllegalStateException("overlapping polling requests"));
            }
            return;
        }
        if (finalAnswer) {
            engine.forget(this);
        }
        if (payload != null) {
            request.answer(200, EngineIo.TEXT, payload);
        }
        complete(released);
    }

    /**
     * The client probes a WebSocket: a waiting GET returns now, and later ones at once, so the
     * client can pause polling (it waits for its GET in flight to return before it upgrades).
     */
    void releasePoll() {
        PollRequest answer;
        String payload;
        Consumer<Throwable> released;
        synchronized (this) {
            probed = true;
            answer = waiting;
            waiting = null;
            if (answer == null) {
                // No GET waits: what is buffered stays for the next GET or for the WebSocket.
                return;
            }
            payload = buffered.isEmpty() ? NOOP : takeBuffered();
            released = takeHeldDone();
        }
        answer.answer(200, EngineIo.TEXT, payload);
        complete(released);
    }

    /** A WebSocket begins to probe: false when the session is closed, upgraded, or probed by another WebSocket. */
    synchronized boolean probing(Transport candidate) {
        if (closed || webSocket != null || probe != null) {
            return false;
        }
        probe = candidate;
        return true;
    }

    /**
     * The probing WebSocket ended, or took too long, without upgrading: the client polls again, and
     * its GETs wait again for packets.
     *
     * @return whether {@code candidate} was still this session's probe (the caller then closes it)
     */
    synchronized boolean probeEnded(Transport candidate) {
        if (probe != candidate) {
            return false;
        }
        probe = null;
        probed = false;
        return true;
    }

    /** The client upgraded: what is buffered goes over {@code target} first, then everything else. */
    void upgrade(Transport target) {
        PollRequest answer;
        synchronized (this) {
            if (closed) {
                // The session ended as its probe sent 5, and closed the probe with it.
                return;
            }
            answer = waiting;
            waiting = null;
            webSocket = target;
            probe = null;
            for (String text : buffered) {
                backlog.add(new Pending(text, null, null));
            }
            buffered.clear();
            bufferedBytes = 0;
            Consumer<Throwable> held = takeHeldDone();
            if (held != null) {
                backlog.add(new Pending(null, null, held));
            }
            draining = true;
        }
        if (answer != null) {
            answer.answer(200, EngineIo.TEXT, NOOP);
        }
        drainNext(null);
    }

    /** Sends the backlog one frame at a time, each after the previous one completed. */
    private void drainNext(Throwable failure) {
        while (true) {
            Pending next;
            Transport target;
            CloseAfterDrain close;
            synchronized (this) {
                next = backlog.poll();
                target = webSocket;
                close = null;
                if (next == null) {
                    draining = false;
                    close = closeAfterDrain;
                    closeAfterDrain = null;
                }
            }
            if (next == null) {
                if (close != null) {
                    target.close(close.code(), close.reason());
                }
                return;
            }
            if (failure != null) {
                if (next.done() != null) {
                    next.done().accept(failure);
                }
                continue;
            }
            if (next.text() == null && next.binary() == null) {
                next.done().accept(null);
                continue;
            }
            next.sendOver(target, error -> {
                if (next.done() != null) {
                    next.done().accept(error);
                }
                drainNext(error);
            });
            return;
        }
    }

    private String takeBuffered() {
        String payload = String.join(String.valueOf(RECORD_SEPARATOR), buffered);
        buffered.clear();
        bufferedBytes = 0;
        return payload;
    }

    private Consumer<Throwable> takeHeldDone() {
        Consumer<Throwable> held = heldDone;
        heldDone = null;
        return held;
    }

    /**
     * A POST begins: false when another POST of this session is still being received, which the
     * reference server refuses as the client's error. So one POST per session is ever held while
     * its listeners run, and the next one starts only after it ({@link #received}).
     */
    synchronized boolean startReceiving() {
        if (receivingPost) {
            return false;
        }
        receivingPost = true;
        return true;
    }

    /** The POST begun with {@link #startReceiving} has been received. */
    synchronized void received() {
        receivingPost = false;
    }

    /**
     * The client's packets from one POST, in order, between {@link #startReceiving} and
     * {@link #received}. A binary packet whose base64 does not decode goes on as text, which no
     * codec takes: the connection refuses it as any malformed packet.
     */
    void receive(String body) {
        Connection target = connection();
        for (String packet : body.split(String.valueOf(RECORD_SEPARATOR), -1)) {
            if (CLOSE.equals(packet)) {
                close(CLIENT_TRANSPORT_CLOSED, "transport close");
                return;
            }
            byte[] binary = packet.isEmpty() || packet.charAt(0) != BINARY ? null : base64(packet.substring(1));
            if (binary != null) {
                target.onBinary(binary);
            } else if (!NOOP.equals(packet)) {
                target.onText(packet);
            }
        }
    }

    private static byte[] base64(String text) {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Closes the session. Over polling, the close packet goes to the waiting GET; otherwise the
     * client's next GETs take what is buffered, then the close, for which the session is kept a
     * heartbeat's time.
     */
    @Override
    public void close(int code, String reason) {
        Transport waitedFor = deferredClose();
        if (waitedFor != null) {
            waitedFor.close(code, reason);
            return;
        }
        Transport target;
        PollRequest answer;
        String payload;
        Consumer<Throwable> held;
        Transport unfinishedProbe;
        boolean deferred;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            target = webSocket;
            unfinishedProbe = probe;
            probe = null;
            closeCode = code;
            answer = waiting;
            waiting = null;
            // A GET waits only while nothing is buffered.
            payload = target == null && answer != null ? CLOSE : null;
            // The send that filled the buffer: the connection it was sent for is ending, and its
            // bytes leave the server's send budget only through this completion.
            held = takeHeldDone();
            // What was buffered before the upgrade is still draining: the close goes behind it.
            deferred = target != null && draining;
            if (deferred) {
                closeAfterDrain = new CloseAfterDrain(code, reason);
            }
        }
        if (target != null || answer != null) {
            engine.forget(this);
        } else {
            engine.forgetUnlessPolled(this);
        }
        if (held != null) {
            failed(held).accept(null);
        }
        if (unfinishedProbe != null) {
            unfinishedProbe.close(code, reason);
        }
        if (target != null) {
            if (!deferred) {
                target.close(code, reason);
            }
            return;
        }
        if (answer != null) {
            answer.answer(200, EngineIo.TEXT, payload);
        }
        // No container reports a polling session's end: this is its report.
        Connection ended = connection();
        if (ended != null) {
            ended.onTransportClosed(code);
        }
    }

    /**
     * The WebSocket whose close waits for the backlog to drain, when a close is asked again (the
     * connection's deadline, for a client that does not take the backlog): it closes now. Null
     * when no close waits.
     */
    private synchronized Transport deferredClose() {
        if (!closed || closeAfterDrain == null) {
            return null;
        }
        closeAfterDrain = null;
        return webSocket;
    }

    /** After the upgrade, behind the WebSocket's input; before it, at once, as POSTs are handled on the thread that read them. */
    @Override
    public void afterInputRead(Runnable report) {
        Transport target;
        synchronized (this) {
            target = webSocket;
        }
        if (target != null) {
            target.afterInputRead(report);
        } else {
            report.run();
        }
    }

    @Override
    public synchronized boolean isOpen() {
        return webSocket != null ? webSocket.isOpen() : !closed;
    }
}
