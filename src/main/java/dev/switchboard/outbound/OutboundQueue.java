package dev.switchboard.outbound;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The send side of one connection: any thread may offer frames; exactly one send is in flight at a
 * time; the queue is bounded in bytes, so a peer that stops reading costs at most
 * {@code maxBytes} and never slows down the threads that broadcast to it.
 *
 * <p>Ownership: {@code frames}, {@code pendingBytes} and {@code waiting} are lock-free and shared
 * by all offering threads; whoever wins {@code writing} (false to true) is the only writer until
 * it hands the flag back, so sends are never concurrent; an offer that finds nothing waiting and
 * wins the flag writes its frame at once, without passing it through {@code frames}. The writer
 * also closes the transport, once no send is in flight: a container that sends a close frame
 * first waits for the send in flight, and Tomcat waits on the thread that asks it to.
 *
 * <p>Where the transport has a {@link FrameWriter}, frames offered with their wire bytes
 * ({@link #offer(String, List, ByteBuffer, int, boolean)}) go to it instead of {@link Transport#send},
 * those queued one behind the other in one write; the rest still go through {@code send}.
 *
 * <pre>{@code
 * OutboundQueue queue = new OutboundQueue(transport, 4 << 20, sendBudget, error -> onTransportError(error));
 * Offer offer = queue.offer(frame.text(), frame.bytes(), false);
 * if (offer == Offer.OVERFLOW || offer == Offer.OVER_BUDGET) evictSlowConsumer();
 * }</pre>
 */
public final class OutboundQueue {

    /** What became of an offered frame. */
    public enum Offer {
        /** Queued (or already sent). */
        QUEUED,
        /** A droppable frame that found the peer behind, dropped. */
        DROPPED,
        /** The queue is full: the peer is a slow consumer. Nothing was queued. */
        OVERFLOW,
        /** The queue has room but the server-wide {@link SendBudget} has not. Nothing was queued. */
        OVER_BUDGET,
        /** The queue was closed. */
        CLOSED
    }

    /**
     * @param attachments binary frames sent right after the text, none for most
     * @param frame       the frame as the transport takes it instead of the text, shared with other
     *                    queues (read-only), or null: whole WebSocket frames, attachments included,
     *                    for a {@link FrameWriter}; the text's UTF-8 payload for
     *                    {@link Transport#sendUtf8}
     * @param budgeted    whether its bytes count toward this queue's bound and the server-wide
     *                    budget (not a replay's)
     */
    private record Item(String text, List<byte[]> attachments, ByteBuffer frame, int bytes, boolean budgeted) {
    }

    /** How many queued frames one write to a {@link FrameWriter} takes at most. */
    private static final int MAX_FRAMES_PER_WRITE = 64;
    /** And how many bytes: about what a socket's send buffer takes at once. */
    private static final int MAX_BYTES_PER_WRITE = 64 * 1024;
    /** No thread is inside a send: thread ids are positive. */
    private static final long NO_SENDER = -1;

    private final Transport transport;
    /** The transport's, or null: then every frame goes through {@link Transport#send}. */
    private final FrameWriter frameWriter;
    private final long maxBytes;
    private final SendBudget budget;
    private final Consumer<Throwable> onSendFailure;
    private final ConcurrentLinkedQueue<Item> frames = new ConcurrentLinkedQueue<>();
    /** Bytes of bounded frames queued, plus the frame in flight if it is one: what the bound applies to. */
    private final AtomicLong pendingBytes = new AtomicLong();
    /**
     * Bytes of frames queued beyond the bound (a replay), plus the frame in flight if it is one.
     * Kept apart from {@code pendingBytes}: a replay bounded elsewhere must not leave the live
     * frames behind it, which the client reads in turn, to be refused as an overflow.
     */
    private final AtomicLong beyondBoundBytes = new AtomicLong();
    /** Frames queued behind the one in flight. */
    private final AtomicInteger waiting = new AtomicInteger();
    /**
     * The bytes of those that count against the server-wide budget: what cutting this peer off
     * would free of it at once (the frame in flight stays until it completes; a replay frees none,
     * so a client reading a long one is not taken for the largest queue).
     */
    private final AtomicLong waitingBytes = new AtomicLong();
    private final AtomicBoolean writing = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    /**
     * The id of the thread inside {@code transport.send} right now, or {@link #NO_SENDER}; written
     * by the writer only. An id rather than the {@code Thread}: this queue lives long, so G1 keeps
     * it in the old generation, where storing a reference to an object of another region marks a
     * card for G1's refinement threads to scan. Once per send, one card per recipient of every
     * broadcast, that woke a refinement thread about 45 times a second in a one-room fan-out and
     * preempted the broadcasting thread as often (docs/BENCHMARKS.md).
     */
    private volatile long sender = NO_SENDER;
    /** The first close asked for; carried out by the writer when no send is in flight. */
    private final AtomicReference<CloseRequest> closeRequest = new AtomicReference<>();
    /** Set by the writer that closes the transport; that writer keeps the role, so nothing is sent after. */
    private final AtomicBoolean transportClosed = new AtomicBoolean();

    /** @param drain whether what is queued is sent first */
    private record CloseRequest(int code, String reason, boolean drain) {
    }

    /** Who waits for room for {@code bytes}, see {@link #hasRoomFor}; set by an offering thread, taken once by a releasing one. */
    private final AtomicReference<RoomWaiter> roomWaiter = new AtomicReference<>();

    private record RoomWaiter(long bytes, Runnable action) {
    }

    /**
     * @param budget        the server-wide bound this queue's bytes also count against
     * @param onSendFailure called once if the transport fails a send; the queue stops writing
     */
    public OutboundQueue(Transport transport, long maxBytes, SendBudget budget, Consumer<Throwable> onSendFailure) {
        this.transport = transport;
        this.frameWriter = transport.frameWriter();
        this.maxBytes = maxBytes;
        this.budget = budget;
        this.onSendFailure = onSendFailure;
    }

    /** A queue bounded on its own only. */
    public OutboundQueue(Transport transport, long maxBytes, Consumer<Throwable> onSendFailure) {
        this(transport, maxBytes, SendBudget.unbounded(), onSendFailure);
    }

    /**
     * Whether frames offered with their wire bytes skip the transport's {@link Transport#send}: if
     * not, offering the bytes is pointless (they are ignored).
     */
    public boolean takesFrames() {
        return frameWriter != null;
    }

    /**
     * Queues one frame.
     *
     * @param droppable drop it instead when frames are already waiting (a volatile emit)
     */
    public Offer offer(String text, int bytes, boolean droppable) {
        return offer(text, List.of(), null, bytes, droppable);
    }

    /**
     * Queues one text frame followed by binary frames (a packet with attachments, sent back to
     * back), together with its bytes as the transport takes them: a server's WebSocket frames,
     * headers included, for a transport that {@link #takesFrames() takes frames}, or the text's
     * UTF-8 payload for one that {@link Transport#supportsUtf8Payload() sends bytes}.
     *
     * @param attachments binary frames sent right after the text, none for most
     * @param frame       read-only and shared, or null: the queue writes a duplicate of it
     * @param bytes       what the bounds count: the text in UTF-8 and the attachments
     * @param droppable   drop it instead when frames are already waiting (a volatile emit)
     */
    public Offer offer(String text, List<byte[]> attachments, ByteBuffer frame, int bytes, boolean droppable) {
        if (closed.get() || closeRequest.get() != null) {
            return Offer.CLOSED;
        }
        if (droppable && waiting.get() > 0) {
            return Offer.DROPPED;
        }
        // Reserved with a compare-and-set rather than added and taken back, so that the count
        // never shows more than the bound, not even for a moment.
        long pending;
        do {
            pending = pendingBytes.get();
            if (pending + bytes > maxBytes) {
                return Offer.OVERFLOW;
            }
        } while (!pendingBytes.compareAndSet(pending, pending + bytes));
        if (!budget.tryReserve(bytes)) {
            if (waitingBytes.get() > 0) {
                pendingBytes.addAndGet(-bytes);
                return Offer.OVER_BUDGET;
            }
            // A peer that keeps up (nothing budgeted waiting; a replay it reads may be) is never
            // refused for what others hold: the budget cuts the clients that are behind, and is
            // passed by one frame per peer at most.
            budget.reserve(bytes);
        }
        Item item = new Item(text, attachments, frame, bytes, true);
        if (waiting.get() == 0 && writing.compareAndSet(false, true)) {
            return writeAsWriter(item);
        }
        return enqueue(item);
    }

    /**
     * The idle fast path: nothing queued, no send in flight, and this thread just took the writer
     * role, so it writes the frame at once without passing it through the queue. Frames queued
     * meanwhile by other threads go first (they were offered first) and this one behind them.
     */
    private Offer writeAsWriter(Item item) {
        if (!closed.get() && frames.isEmpty()) {
            writeFrom(item, true);
            return Offer.QUEUED;
        }
        boolean queued = append(item);
        writeQueued();
        return queued ? Offer.QUEUED : Offer.CLOSED;
    }

    /**
     * Queues a frame whatever the bound, for frames bounded elsewhere: the Java client's pong (one
     * per ping), or a recovery replay, whose frames the replay log already holds (and bounds), so
     * queueing them costs references, not a second copy. Live frames queued behind a long replay
     * wait for it to drain, and only they count toward the bound: a client that reads the replay
     * is never cut off for it, one that stops reading is cut off once its live frames pass the
     * bound. Nor do they count against the server-wide budget, which would otherwise cut off the
     * clients that are recovering, first and again after each recovery.
     */
    public Offer offerBeyondBound(String text, int bytes) {
        return offerBeyondBound(text, List.of(), null, bytes);
    }

    /** {@link #offerBeyondBound(String, int)} with attachments and wire bytes, as {@link #offer(String, List, ByteBuffer, int, boolean)} takes them. */
    public Offer offerBeyondBound(String text, List<byte[]> attachments, ByteBuffer frame, int bytes) {
        if (closed.get() || closeRequest.get() != null) {
            return Offer.CLOSED;
        }
        beyondBoundBytes.addAndGet(bytes);
        return enqueue(new Item(text, attachments, frame, bytes, false));
    }

    private Offer enqueue(Item item) {
        if (!append(item)) {
            return Offer.CLOSED;
        }
        if (writing.compareAndSet(false, true)) {
            writeQueued();
        }
        return Offer.QUEUED;
    }

    /** Adds an item behind the others; false, with it dropped, when the queue was closed meanwhile. */
    private boolean append(Item item) {
        waiting.incrementAndGet();
        if (item.budgeted) {
            waitingBytes.addAndGet(item.bytes);
        }
        frames.add(item);
        if (closed.get()) {
            // Closed between the check in offer and the add: close() may have drained before it.
            dropQueued();
            return false;
        }
        return true;
    }

    /** Called by the writer: sends what is queued, or gives the role back (closing if asked). */
    private void writeQueued() {
        Item next = nextOrRelease();
        if (next != null) {
            writeFrom(next, false);
        }
    }

    /**
     * Whether this thread is inside a send of this queue: a container may report a failure or
     * the connection's close from within the send itself, on a thread that offered the frame and
     * may hold the offerer's locks.
     */
    public boolean sendingOnThisThread() {
        return sender == Thread.currentThread().getId();
    }

    /**
     * Whether a frame of {@code bytes} fits now; if not, {@code whenRoom} runs once it does, on
     * the thread that frees the room (a writer, possibly inside an offer: keep it short and take
     * no lock). For a producer that holds back what it has not queued yet instead of losing it to
     * {@link Offer#OVERFLOW}; only the last waiter asked for is kept.
     */
    public boolean hasRoomFor(long bytes, Runnable whenRoom) {
        if (pendingBytes.get() + bytes <= maxBytes) {
            return true;
        }
        roomWaiter.set(new RoomWaiter(bytes, whenRoom));
        // The room may have been freed between the check and the set, with nobody left to notice.
        wakeRoomWaiter();
        return false;
    }

    private void wakeRoomWaiter() {
        RoomWaiter waiter = roomWaiter.get();
        if (waiter != null && pendingBytes.get() + waiter.bytes() <= maxBytes && roomWaiter.compareAndSet(waiter, null)) {
            waiter.action().run();
        }
    }

    /** Bytes queued or in flight, a replay's included. */
    public long pendingBytes() {
        return pendingBytes.get() + beyondBoundBytes.get();
    }

    /**
     * Budgeted bytes waiting behind the one in flight: what dropping the queue frees of the
     * server-wide budget at once.
     */
    public long waitingBytes() {
        return waitingBytes.get();
    }

    /**
     * Stops queueing and drops what is queued; the transport is left to whoever is closing it
     * (the connection is gone, or the container is closing it).
     */
    public void close() {
        if (closed.compareAndSet(false, true)) {
            dropQueued();
        }
    }

    /** Takes every queued frame out and frees its bytes; safe on several threads at once. */
    private void dropQueued() {
        Item item;
        while ((item = poll()) != null) {
            release(item);
        }
    }

    private Item poll() {
        Item item = frames.poll();
        if (item != null) {
            waiting.decrementAndGet();
            if (item.budgeted) {
                waitingBytes.addAndGet(-item.bytes);
            }
        }
        return item;
    }

    /**
     * Drops what is queued, then closes the transport with {@code code} once the send in flight,
     * if any, has completed. The caller enforces a deadline with {@link Transport#close} for a
     * send that never completes. Only the first close asked for counts.
     */
    public void close(int code, String reason) {
        requestClose(new CloseRequest(code, reason, false));
    }

    /**
     * Refuses new frames, sends what is queued, then closes the transport with {@code code}.
     * The caller enforces a deadline with {@link Transport#close} if the peer does not drain.
     * Only the first close asked for counts.
     */
    public void closeWhenDrained(int code, String reason) {
        requestClose(new CloseRequest(code, reason, true));
    }

    private void requestClose(CloseRequest request) {
        if (!closeRequest.compareAndSet(null, request)) {
            return;
        }
        if (!request.drain()) {
            close();
        }
        if (writing.compareAndSet(false, true)) {
            writeQueued();
        }
    }

    /** Frees the bytes of a frame sent or dropped, here and, unless a replay's, in the server-wide budget. */
    private void release(Item item) {
        if (item.budgeted) {
            pendingBytes.addAndGet(-item.bytes);
            budget.release(item.bytes);
        } else {
            beyondBoundBytes.addAndGet(-item.bytes);
        }
        if (roomWaiter.get() != null) {
            wakeRoomWaiter();
        }
    }

    /**
     * Runs on the writer: sends until the queue is dry or a send completes later.
     *
     * @param alone whether the queue was just seen empty behind {@code first}: it is written without
     *              looking for more to write with it
     */
    private void writeFrom(Item first, boolean alone) {
        Item item = first;
        boolean nothingBehind = alone;
        while (item != null) {
            if (!transport.isOpen()) {
                // Closing (a close frame came in, or ours went out): nothing more can be sent, and
                // a container answering a client's close frame waits for the send in flight, so
                // that must be the last one, not the rest of the queue.
                release(item);
                close();
                item = nextOrRelease();
                continue;
            }
            boolean framed = item.frame != null && frameWriter != null;
            Item[] batch = framed && !nothingBehind ? batchFrom(item) : null;
            nothingBehind = false;
            Handoff handoff = new Handoff(item, batch);
            sender = Thread.currentThread().getId();
            try {
                if (framed) {
                    frameWriter.write(batch == null ? new ByteBuffer[] {item.frame.duplicate()} : framesOf(batch), handoff);
                } else if (item.frame != null) {
                    transport.sendUtf8(item.frame, handoff);
                } else if (item.attachments.isEmpty()) {
                    transport.send(item.text, handoff);
                } else {
                    new Attachments(item, handoff).sendFrom();
                }
            } catch (RuntimeException e) {
                handoff.accept(e);
                return;
            } finally {
                sender = NO_SENDER;
            }
            if (handoff.continuedByCallback()) {
                return;
            }
            item = nextOrRelease();
        }
    }

    /**
     * Called by the writer only: {@code first} and the framed items queued right behind it, within
     * the bounds of one write; null when none is. The writer is the only one that takes items out, but for a close
     * that drops them all ({@link #dropQueued}): an item taken that is not the one looked at means
     * the queue was closed meanwhile, and it is dropped too.
     */
    private Item[] batchFrom(Item first) {
        Item[] batch = null;
        int count = 1;
        long batchBytes = first.frame.remaining();
        Item next;
        while (count < MAX_FRAMES_PER_WRITE && !closed.get() && (next = frames.peek()) != null
                && next.frame != null && batchBytes + next.frame.remaining() <= MAX_BYTES_PER_WRITE) {
            Item taken = poll();
            if (taken != next) {
                if (taken != null) {
                    release(taken);
                }
                break;
            }
            if (batch == null) {
                batch = new Item[Math.min(MAX_FRAMES_PER_WRITE, 4)];
                batch[0] = first;
            } else if (count == batch.length) {
                batch = Arrays.copyOf(batch, Math.min(MAX_FRAMES_PER_WRITE, count * 4));
            }
            batch[count++] = taken;
            batchBytes += taken.frame.remaining();
        }
        return batch == null || count == batch.length ? batch : Arrays.copyOf(batch, count);
    }

    private static ByteBuffer[] framesOf(Item[] batch) {
        ByteBuffer[] buffers = new ByteBuffer[batch.length];
        for (int i = 0; i < batch.length; i++) {
            buffers[i] = batch[i].frame.duplicate();
        }
        return buffers;
    }

    /**
     * Called by the writer only, with no send in flight: the next frame, or null after closing the
     * transport if that was asked for, or after giving up the writer role.
     */
    private Item nextOrRelease() {
        while (true) {
            Item next = closed.get() ? null : poll();
            if (next != null) {
                return next;
            }
            CloseRequest close = closeRequest.get();
            if (close != null) {
                close();
                if (transportClosed.compareAndSet(false, true)) {
                    transport.close(close.code(), close.reason());
                }
                return null;
            }
            writing.set(false);
            boolean work = closeRequest.get() != null || (!closed.get() && !frames.isEmpty());
            if (!work || !writing.compareAndSet(false, true)) {
                return null;
            }
        }
    }

    /**
     * Sends an item's text and then its binary frames, each once the previous one completed, then
     * completes the item: nothing else is sent in between, so they stay together. As the queue's
     * own loop, a send that completes inline is followed after it returns, not from inside its
     * completion: Jetty refuses to start a binary message from the completion of a text one.
     */
    private final class Attachments {
        private final Item item;
        private final Consumer<Throwable> done;
        /** The next frame to send, -1 for the text; advanced by whoever continues the sequence. */
        private int next = -1;

        Attachments(Item item, Consumer<Throwable> done) {
            this.item = item;
            this.done = done;
        }

        /** Sends from {@code next} on, with no send in flight, until one completes later or all did. */
        void sendFrom() {
            while (next < item.attachments.size()) {
                Part part = new Part();
                try {
                    if (next < 0) {
                        transport.send(item.text, part);
                    } else {
                        transport.sendBinary(ByteBuffer.wrap(item.attachments.get(next)), part);
                    }
                } catch (RuntimeException e) {
                    done.accept(e);
                    return;
                }
                next++;
                if (part.continuedByCallback()) {
                    return;
                }
                if (part.error != null) {
                    done.accept(part.error);
                    return;
                }
            }
            done.accept(null);
        }

        /** One frame's completion; whichever of "send returned" and "send completed" comes second continues. */
        private final class Part implements Consumer<Throwable> {
            private final AtomicBoolean firstArrived = new AtomicBoolean();
            private volatile Throwable error;

            @Override
            public void accept(Throwable failure) {
                error = failure;
                if (!firstArrived.compareAndSet(false, true)) {
                    if (failure != null) {
                        done.accept(failure);
                    } else {
                        sendFrom();
                    }
                }
            }

            boolean continuedByCallback() {
                return firstArrived.compareAndSet(false, true);
            }
        }
    }

    /**
     * The completion of one send. Whichever of "send returned" and "send completed" comes second
     * (the flag this is tells) continues the loop: inline completions loop instead of recursing, so a long queue that a
     * container completes synchronously cannot overflow the stack.
     */
    private final class Handoff extends AtomicBoolean implements Consumer<Throwable> {
        private final Item item;
        /** Every item of a write to the frame writer, {@code item} first; null for one item. */
        private final Item[] batch;

        Handoff(Item item, Item[] batch) {
            this.item = item;
            this.batch = batch;
        }

        @Override
        public void accept(Throwable error) {
            if (batch == null) {
                release(item);
            } else {
                for (Item sent : batch) {
                    release(sent);
                }
            }
            if (error != null) {
                close();
                // Gives the writer role back (or closes the transport, if asked meanwhile).
                nextOrRelease();
                onSendFailure.accept(error);
                return;
            }
            if (!compareAndSet(false, true)) {
                writeQueued();
            }
        }

        /** True when the completion has not run yet and will continue the loop itself. */
        boolean continuedByCallback() {
            return compareAndSet(false, true);
        }
    }
}
