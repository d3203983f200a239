package dev.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The write floor keeps its promise: a member that stops reading is dropped past the bound, the others get everything. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WriteFloorServerTest {
    private static final int BOUND = 64 * 1024;
    private static final int EVENT_CHARS = 64 * 1024;
    /** 8 MiB in all: more than the bound and the kernel's socket buffers together. */
    private static final int EVENTS = 128;

    @Test
    void aMemberThatStopsReadingIsDroppedAndTheOthersGetEverything() throws Exception {
        try (WriteFloorServer server = new WriteFloorServer(0, BOUND);
             Fleet fleet = new Fleet(Wire.SWITCHBOARD, new InetSocketAddress("127.0.0.1", server.port()))) {
            List<Client> readers = fleet.connect(3, i -> 0);
            Client stalled = fleet.connect(1, i -> 0, 4096).get(0);
            stalled.stopReading();
            Client publisher = fleet.connect(1, i -> -1).get(0);
            long connected = fleet.stats(false).connections();
            fleet.window(fleet.lastSeq() + 1, Long.MAX_VALUE);
            for (int i = 0; i < EVENTS; i++) {
                publisher.send("publish", "\"r0\"," + Payload.of(fleet.nextSeq(), System.nanoTime(), EVENT_CHARS));
            }
            long expected = (long) EVENTS * readers.size();
            assertEquals(expected, Scenarios.await(fleet::inWindow, expected, 30), "every reader got every event");
            assertTrue(fleet.awaitConnections(connected - 1), "the member that stopped reading was dropped");
            assertTrue(fleet.stats(false).maxQueuedBytes() <= BOUND, "what waits stays under the bound");
            assertEquals(0, fleet.duplicates());
        }
    }
}
