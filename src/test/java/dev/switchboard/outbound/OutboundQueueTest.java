package dev.switchboard.outbound;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.Await;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The queue's own contract, on a transport that completes sends on the calling thread, as some
 * containers do for small frames: no recursion, byte accounting, volatile drops, overflow, and
 * closes that wait for the send in flight.
 */
class OutboundQueueTest {

    /** Completes every send at once, or holds them until released. */
    private static class ImmediateTransport implements Transport {
        final List<String> sent = new ArrayList<>();
        final List<Consumer<Throwable>> held = new ArrayList<>();
        boolean hold;
        boolean open = true;
        int closeCode;

        @Override
        public void send(String text, Consumer<Throwable> done) {
            sent.add(text);
            if (hold) {
                held.add(done);
            } else {
                done.accept(null);
            }
        }

        /** Bytes go out as {@code utf8:<text>}, read from a duplicate as the contract asks. */
        @Override
        public void sendUtf8(ByteBuffer payload, Consumer<Throwable> done) {
            send("utf8:" + StandardCharsets.UTF_8.decode(payload.duplicate()), done);
        }

        @Override
        public void close(int code, String reason) {
            closeCode = code;
        }

        @Override
        public boolean isOpen() {
            return open;
        }
    }

    /** A transport with a frame writer that holds each write until released. */
    private static final class FramingTransport extends ImmediateTransport {
        final List<List<String>> writes = new ArrayList<>();

        @Override
        public FrameWriter frameWriter() {
            return (frames, done) -> {
                List<String> write = new ArrayList<>();
                for (ByteBuffer frame : frames) {
                    write.add(StandardCharsets.UTF_8.decode(frame).toString());
                }
                writes.add(write);
                held.add(done);
            };
        }
    }

    private static ByteBuffer wire(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)).asReadOnlyBuffer();
    }

    @Test
    void framesQueuedBehindAWriteGoInOneWriteAndCountUntilItCompletes() {
        FramingTransport transport = new FramingTransport();
        OutboundQueue queue = new OutboundQueue(transport, 1000, error -> { });
        assertTrue(queue.takesFrames());
        ByteBuffer shared = wire("b");
        queue.offer("a", List.of(), wire("a"), 1, false);
        queue.offer("b", List.of(), shared, 1, false);
        queue.offer("c", List.of(), wire("c"), 1, false);
        queue.offer("d", List.of(), null, 1, false);
        queue.offer("b", List.of(), shared, 1, false);
        assertEquals(List.of(List.of("a")), transport.writes);
        assertEquals(5, queue.pendingBytes());
        transport.held.get(0).accept(null);
        assertEquals(List.of(List.of("a"), List.of("b", "c")), transport.writes, "up to the frame offered without its bytes");
        assertEquals(4, queue.pendingBytes(), "b and c count until their write completes, d and b wait");
        transport.held.get(1).accept(null);
        assertEquals(List.of("d"), transport.sent, "sent through the transport's own path (which completes at once)");
        assertEquals(List.of(List.of("a"), List.of("b", "c"), List.of("b")), transport.writes, "a shared frame is written whole each time");
        transport.held.get(2).accept(null);
        assertEquals(0, queue.pendingBytes());
        assertEquals(0, shared.position(), "the shared buffer itself is never moved");
    }

    @Test
    void inlineCompletionsDoNotRecurse() {
        ImmediateTransport transport = new ImmediateTransport();
        transport.hold = true;
        OutboundQueue queue = new OutboundQueue(transport, Long.MAX_VALUE, error -> { });
        queue.offer("first", 5, false);
        for (int i = 0; i < 200_000; i++) {
            queue.offer("f" + i, 1, false);
        }
        transport.hold = false;
        transport.held.get(0).accept(null);
        assertEquals(200_001, transport.sent.size());
        assertEquals(0, queue.pendingBytes());
    }

    @Test
    void aFrameGivenInUtf8GoesOutAsBytesUntouchedAndCountsUntilWritten() {
        ImmediateTransport transport = new ImmediateTransport();
        transport.hold = true;
        OutboundQueue queue = new OutboundQueue(transport, 10, error -> { });
        ByteBuffer shared = ByteBuffer.wrap("é!".getBytes(StandardCharsets.UTF_8)).asReadOnlyBuffer();
        assertEquals(OutboundQueue.Offer.QUEUED, queue.offer("é!", List.of(), shared, 3, false));
        assertEquals(OutboundQueue.Offer.QUEUED, queue.offer("é!", List.of(), shared, 3, false));
        assertEquals(OutboundQueue.Offer.QUEUED, queue.offer("text", 4, false));
        // The one in flight still counts: the bound holds until the transport says it is written.
        assertEquals(OutboundQueue.Offer.OVERFLOW, queue.offer("é!", List.of(), shared, 3, false));
        assertEquals(10, queue.pendingBytes());

        transport.hold = false;
        transport.held.get(0).accept(null);
        assertEquals(List.of("utf8:é!", "utf8:é!", "text"), transport.sent);
        assertEquals(0, shared.position(), "the shared buffer is read through duplicates only");
        assertEquals(0, queue.pendingBytes());
    }

    @Test
    void volatileFramesAreDroppedOnlyWhenFramesWait() {
        ImmediateTransport transport = new ImmediateTransport();
        transport.hold = true;
        OutboundQueue queue = new OutboundQueue(transport, 1000, error -> { });
        assertEquals(OutboundQueue.Offer.QUEUED, queue.offer("in flight", 9, true));
        assertEquals(OutboundQueue.Offer.QUEUED, queue.offer("waits", 5, false));
        assertEquals(OutboundQueue.Offer.DROPPED, queue.offer("volatile", 8, true));
        assertEquals(14, queue.pendingBytes());
    }

    @Test
    void overflowRefusesWithoutQueueing() {
        ImmediateTransport transport = new ImmediateTransport();
        transport.hold = true;
        OutboundQueue queue = new OutboundQueue(transport, 10, error -> { });
        assertEquals(OutboundQueue.Offer.QUEUED, queue.offer("123456", 6, false));
        assertEquals(OutboundQueue.Offer.OVERFLOW, queue.offer("12345", 5, false));
        assertEquals(6, queue.pendingBytes());
    }

    @Test
    void aProducerHeldBackForRoomIsToldOnceTheWriterFreesIt() {
        ImmediateTransport transport = new ImmediateTransport();
        OutboundQueue queue = oneInFlightOneQueued(transport);
        List<String> told = new ArrayList<>();
        assertTrue(queue.hasRoomFor(85, () -> told.add("too early")));
        assertFalse(queue.hasRoomFor(95, () -> told.add("room for 95")));
        transport.held.get(0).accept(null);
        assertEquals(List.of(), told, "6 bytes still wait: 101 would not fit in 100");
        transport.held.get(1).accept(null);
        assertEquals(List.of("room for 95"), told);
        transport.hold = false;
        queue.offer("more", 4, false);
        assertEquals(List.of("room for 95"), told, "told once");
    }

    @Test
    void closeWhenDrainedFlushesThenCloses() {
        ImmediateTransport transport = new ImmediateTransport();
        OutboundQueue queue = oneInFlightOneQueued(transport);
        queue.closeWhenDrained(1001, "bye");
        assertEquals(OutboundQueue.Offer.CLOSED, queue.offer("late", 4, false));
        assertEquals(0, transport.closeCode);
        transport.hold = false;
        transport.held.get(0).accept(null);
        assertEquals(List.of("in flight", "queued"), transport.sent);
        assertEquals(1001, transport.closeCode);
    }

    /** A queue on {@code transport}, which holds its sends: "in flight" (9 bytes) is sent, "queued" (6) waits. */
    private static OutboundQueue oneInFlightOneQueued(ImmediateTransport transport) {
        transport.hold = true;
        OutboundQueue queue = new OutboundQueue(transport, 100, error -> { });
        queue.offer("in flight", 9, false);
        queue.offer("queued", 6, false);
        return queue;
    }

    /** A container sending a close frame waits for the send in flight (Tomcat, on the thread that asks it). */
    @Test
    void closeWaitsForTheSendInFlightAndDropsTheRest() {
        ImmediateTransport transport = new ImmediateTransport();
        OutboundQueue queue = oneInFlightOneQueued(transport);
        queue.close(4000, "ping timeout");
        assertEquals(0, transport.closeCode, "closed over the send in flight");
        assertEquals(9, queue.pendingBytes());
        transport.held.get(0).accept(null);
        assertEquals(List.of("in flight"), transport.sent);
        assertEquals(4000, transport.closeCode);
        assertEquals(0, queue.pendingBytes());
    }

    /**
     * Once the connection is closing (the client's close frame came in), the frame in flight is
     * the last: Tomcat answers that close frame after it, on its request thread, and would
     * otherwise wait for the whole queue.
     */
    @Test
    void aClosingTransportGetsNothingAfterTheFrameInFlight() {
        ImmediateTransport transport = new ImmediateTransport();
        OutboundQueue queue = oneInFlightOneQueued(transport);
        transport.open = false;
        transport.held.get(0).accept(null);
        assertEquals(List.of("in flight"), transport.sent);
        assertEquals(0, queue.pendingBytes());
        assertEquals(OutboundQueue.Offer.CLOSED, queue.offer("late", 4, false));
    }

    @Test
    void aFailedSendLetsALaterCloseThrough() {
        ImmediateTransport transport = new ImmediateTransport();
        OutboundQueue queue = oneInFlightOneQueued(transport);
        transport.held.get(0).accept(new IOException("reset"));
        queue.close(1000, "transport close");
        assertEquals(1000, transport.closeCode);
    }

    @Test
    void framesOfferedFromManyThreadsGoOutOnceEachInTheirOrderOneWriteAtATime() throws Exception {
        int threads = 4;
        int perThread = 20_000;
        List<String> written = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean inFlight = new AtomicBoolean();
        AtomicInteger overlaps = new AtomicInteger();
        ExecutorService completer = Executors.newSingleThreadExecutor();
        Transport transport = new ImmediateTransport() {
            @Override
            public FrameWriter frameWriter() {
                return (frames, done) -> {
                    if (!inFlight.compareAndSet(false, true)) {
                        overlaps.incrementAndGet();
                    }
                    for (ByteBuffer frame : frames) {
                        written.add(StandardCharsets.UTF_8.decode(frame).toString());
                    }
                    // Some writes complete on the calling thread, the others later on another one.
                    if (written.size() % 3 == 0) {
                        inFlight.set(false);
                        done.accept(null);
                    } else {
                        completer.execute(() -> {
                            inFlight.set(false);
                            done.accept(null);
                        });
                    }
                };
            }
        };
        OutboundQueue queue = new OutboundQueue(transport, Long.MAX_VALUE, error -> { });
        List<Thread> offering = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            offering.add(new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    String text = thread + ":" + i;
                    queue.offer(text, List.of(), wire(text), 1, false);
                }
            }));
        }
        offering.forEach(Thread::start);
        for (Thread thread : offering) {
            thread.join();
        }
        Await.until("every write completed", () -> queue.pendingBytes() == 0);
        completer.shutdown();
        assertEquals(threads * perThread, written.size());
        assertEquals(0, overlaps.get(), "never two writes at once");
        int[] next = new int[threads];
        for (String text : written) {
            int thread = Integer.parseInt(text.substring(0, text.indexOf(':')));
            assertEquals(next[thread]++, Integer.parseInt(text.substring(text.indexOf(':') + 1)), text);
        }
    }
}
