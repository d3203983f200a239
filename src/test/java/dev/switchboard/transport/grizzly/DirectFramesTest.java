package dev.switchboard.transport.grizzly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.server.SwitchboardOptions;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The standalone server writes broadcast frames framed once, straight onto each connection
 * (past Tyrus's send path): read here byte by byte through raw sockets, as a client library would.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class DirectFramesTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** A raw connection past its hello, in the default namespace, whose socket joined the room. */
    private static RawTcp member(TestServer server) throws IOException {
        RawTcp tcp = RawTcp.upgrade(server.port(), "/switchboard");
        assertEquals("hello", packet(tcp.nextFrame(WAIT)).getString("type"));
        tcp.write(RawTcp.frame(0x81, "{\"type\":\"connect\"}".getBytes(StandardCharsets.UTF_8)));
        assertEquals("connect", packet(tcp.nextFrame(WAIT)).getString("type"));
        return tcp;
    }

    private static JsonObject packet(RawTcp.Frame frame) {
        assertTrue(frame.whole(), "a message in one frame, FIN set, no RSV bits");
        assertEquals(RawTcp.Frame.TEXT, frame.opcode());
        return Json.createReader(new StringReader(frame.text())).readObject();
    }

    /** The connect answer goes out before the connection listeners join the room: wait until a broadcast sees them. */
    private static void awaitMembers(TestServer server, int count) {
        Await.until(count + " members in the room",
                () -> server.switchboard().root().in("room").fetchSockets().join().size() == count);
    }

    private static TestServer roomServer() {
        return roomServer(TestServer.options().build());
    }

    private static TestServer roomServer(SwitchboardOptions options) {
        return TestServer.start(options, switchboard -> switchboard.onConnection(socket -> socket.join("room")));
    }

    @Test
    void aBroadcastReachesEveryMemberIntactWhateverTheLengthEncoding() throws IOException {
        // 7-bit, 16-bit and 64-bit payload lengths; characters of 1, 2, 3 and 4 bytes in UTF-8.
        List<String> texts = List.of("plain", "é€𝄞 " + "ü".repeat(150), "ß€𝄞".repeat(8_000));
        try (TestServer server = roomServer()) {
            List<RawTcp> members = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                members.add(member(server));
            }
            awaitMembers(server, 3);
            for (String text : texts) {
                server.switchboard().to("room").emit("msg", text);
            }
            for (RawTcp member : members) {
                for (String text : texts) {
                    RawTcp.Frame frame = member.nextFrame(WAIT);
                    JsonObject event = packet(frame);
                    assertEquals("msg", event.getString("event"));
                    assertEquals(text, event.getJsonArray("args").getString(0));
                }
                member.close();
            }
        }
        assertTrue(texts.get(2).getBytes(StandardCharsets.UTF_8).length > 0xFFFF, "the last needs the 64-bit length");
    }

    /**
     * Frames queued behind one another go out in one write; the client's pings, answered by Tyrus
     * on its own writes meanwhile, must come between frames, never inside one.
     */
    @Test
    void aBurstFromSeveralThreadsArrivesWholeInOrderWithTheContainersPongsBetweenFrames() throws Exception {
        int threads = 4;
        int perThread = 500;
        int pings = 100;
        String filler = "x".repeat(300);
        try (TestServer server = roomServer(); RawTcp member = member(server)) {
            awaitMembers(server, 1);
            ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
            CountDownLatch go = new CountDownLatch(1);
            for (int t = 0; t < threads; t++) {
                int sender = t;
                pool.execute(() -> {
                    await(go);
                    for (int i = 0; i < perThread; i++) {
                        server.switchboard().to("room").emit("tick", sender, i, filler);
                    }
                });
            }
            pool.execute(() -> {
                await(go);
                try {
                    for (int i = 0; i < pings; i++) {
                        member.write(RawTcp.frame(0x89, ("ping " + i).getBytes(StandardCharsets.US_ASCII)));
                    }
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            go.countDown();
            int[] next = new int[threads];
            int pongs = 0;
            for (int received = 0; received < threads * perThread + pings; received++) {
                RawTcp.Frame frame = member.nextFrame(WAIT);
                if (isPongTo(frame, pongs)) {
                    pongs++;
                    continue;
                }
                JsonArray args = packet(frame).getJsonArray("args");
                int sender = args.getInt(0);
                assertEquals(next[sender]++, args.getInt(1), "sender " + sender + " out of order");
                assertEquals(filler, args.getString(2));
            }
            pool.shutdown();
            assertEquals(pings, pongs);
            assertEquals(0, server.switchboard().metrics().slowConsumers());
        }
    }

    /**
     * A member that reads nothing for a while: the socket takes part of a frame, the rest waits in
     * the connection's write queue with the frames and the container's pongs behind it, and all
     * of it arrives whole and in order once the member reads.
     */
    @Test
    void aMemberThatReadsLateGetsEveryFrameWholeAndInOrderWithThePongsBetween() throws Exception {
        int events = 24_000;   // 24 MB: more than the kernel's buffers on both ends take
        int pings = 50;
        String filler = "z".repeat(1000);
        try (TestServer server = roomServer(TestServer.options().sendQueueBytes(64L << 20).sendBudgetBytes(64L << 20).build());
             RawTcp member = member(server)) {
            awaitMembers(server, 1);
            for (int i = 0; i < events; i++) {
                server.switchboard().to("room").emit("tick", i, filler);
                if (i % (events / pings) == 0) {
                    member.write(RawTcp.frame(0x89, ("ping " + i / (events / pings)).getBytes(StandardCharsets.US_ASCII)));
                }
            }
            long queued;
            do {
                queued = server.switchboard().metrics().queuedBytes();
                TimeUnit.MILLISECONDS.sleep(100);
            } while (queued != server.switchboard().metrics().queuedBytes());
            assertTrue(queued > 0, "the writes stalled on a full socket");
            int next = 0;
            int pongs = 0;
            while (next < events || pongs < pings) {
                RawTcp.Frame frame = member.nextFrame(WAIT);
                if (isPongTo(frame, pongs)) {
                    pongs++;
                    continue;
                }
                JsonArray args = packet(frame).getJsonArray("args");
                assertEquals(next++, args.getInt(0));
                assertEquals(filler, args.getString(1));
            }
            assertEquals(0, server.switchboard().metrics().slowConsumers());
        }
    }

    /** Whether {@code frame} is a pong, which must then be whole and answer the ping numbered {@code number}. */
    private static boolean isPongTo(RawTcp.Frame frame, int number) {
        if (frame.opcode() != RawTcp.Frame.PONG) {
            return false;
        }
        assertTrue(frame.whole());
        assertArrayEquals(("ping " + number).getBytes(StandardCharsets.US_ASCII), frame.payload());
        return true;
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
