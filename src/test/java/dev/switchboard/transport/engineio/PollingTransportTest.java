package dev.switchboard.transport.engineio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.switchboard.outbound.Transport;
import dev.switchboard.server.Switchboard;
import dev.switchboard.server.SwitchboardOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The polling session's transport alone, against a WebSocket whose sends complete when the test
 * says, so that the order of what reaches the WebSocket does not depend on timing.
 */
class PollingTransportTest {
    private final Switchboard switchboard = Switchboard.create(SwitchboardOptions.defaults());

    @AfterEach
    void stop() {
        switchboard.close();
    }

    /**
     * Packets buffered for polling go over the WebSocket first, in order, after the upgrade; a
     * close asked while they drain (the server's {@code disconnect(true)}, a drain, a policy
     * close: the connection's queue closes once its own sends completed, and those buffered
     * before the upgrade completed when they were buffered) comes after them. Before, the
     * WebSocket was closed at once, and what was still buffered was sent after the close, lost.
     */
    @Test
    void aCloseWhileTheUpgradeDrainsTheBufferComesAfterWhatWasBuffered() {
        PollingTransport session = new PollingTransport(EngineIo.of(switchboard), 1 << 20);
        List<String> sent = new ArrayList<>();
        session.send("42[\"a\",1]", error -> sent.add("a completed"));
        session.send("42[\"b\",2]", error -> sent.add("b completed"));
        assertEquals(List.of("a completed", "b completed"), sent, "buffered for polling, both completed at once");
        sent.clear();

        SlowWebSocket webSocket = new SlowWebSocket();
        session.upgrade(webSocket);
        assertEquals(List.of("42[\"a\",1]"), webSocket.events, "the first buffered packet is being sent");
        session.close(1000, "server disconnect");
        while (webSocket.completeOne()) {
            // each completion lets the drain send the next packet
        }
        assertEquals(List.of("42[\"a\",1]", "42[\"b\",2]", "close 1000"), webSocket.events,
                "what the WebSocket was asked, in order");
    }

    /** A WebSocket whose sends complete one at a time when {@link #completeOne} is called. */
    private static final class SlowWebSocket implements Transport {
        final List<String> events = new ArrayList<>();
        private final List<Consumer<Throwable>> pending = new ArrayList<>();
        private boolean closed;

        @Override
        public synchronized void send(String text, Consumer<Throwable> done) {
            events.add(text);
            pending.add(done);
        }

        @Override
        public void close(int code, String reason) {
            synchronized (this) {
                closed = true;
                events.add("close " + code);
            }
        }

        @Override
        public synchronized boolean isOpen() {
            return !closed;
        }

        boolean completeOne() {
            Consumer<Throwable> done;
            synchronized (this) {
                if (pending.isEmpty()) {
                    return false;
                }
                done = pending.remove(0);
            }
            done.accept(null);
            return true;
        }
    }
}
