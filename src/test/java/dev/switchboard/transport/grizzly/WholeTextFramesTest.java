package dev.switchboard.transport.grizzly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.Await;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.glassfish.grizzly.Buffer;
import org.glassfish.grizzly.memory.Buffers;
import org.glassfish.grizzly.memory.MemoryManager;
import org.junit.jupiter.api.Test;

/**
 * The standalone server reads a client's whole text frames past Tyrus ({@link WholeTextFrames})
 * and hands Tyrus the rest of each read. Whatever the reads cut, the messages come out as Tyrus
 * alone would deliver them, in the same order, and a frame goes past Tyrus only when Tyrus has
 * nothing pending. Tyrus is stood in for by a reference reader of the unmasked stream.
 */
class WholeTextFramesTest {
    /** These streams have no limit on a frame's length ({@link ClientFrames} unbounded). */
    private static final Runnable NO_FRAME_TOO_BIG = () -> {
        throw new AssertionError("a frame reported too big");
    };

    @Test
    void messagesComeOutAsTheLayerAloneWouldDeliverThemWhereverTheReadsCut() {
        List<byte[]> frames = clientFrames();
        List<String> all = new Layer().read(unmaskedCopy(joined(frames))).events;
        assertTrue(all.size() > 200 && all.get(all.size() - 1).equals("close 1007"), "the stream reaches its invalid text: " + all.size());
        int direct = 0;
        for (int seed = 0; seed < 40; seed++) {
            direct += assertDeliveredAsByTheLayer(frames, new Random(seed), "seed " + seed);
        }
        direct += assertDeliveredAsByTheLayer(frames, null, "a frame a read");
        assertTrue(direct > 0, "no message went past the layer");
    }

    @Test
    void aMessageThatInterruptsAnotherIsLeftToTheLayerToRefuse() {
        List<byte[]> frames = List.of(masked(0x01, "the start".getBytes(StandardCharsets.UTF_8)),
                masked(0x81, "a whole one".getBytes(StandardCharsets.UTF_8)), masked(0x80, "the end".getBytes(StandardCharsets.UTF_8)));
        assertEquals(0, assertDeliveredAsByTheLayer(frames, null, "a frame a read"));
    }

    /**
     * Passes the frames through {@link ClientFrames}, {@link WholeTextFrames} and the layer as the
     * server's filter does, in reads of random sizes, or of one frame each when {@code random} is
     * null; checks that what comes out is what the layer alone delivers, and that nothing went past
     * the layer while it held part of a frame.
     *
     * @return how many messages went past the layer
     */
    private static int assertDeliveredAsByTheLayer(List<byte[]> frames, Random random, String what) {
        byte[] stream = joined(frames);
        List<String> expected = new Layer().read(unmaskedCopy(stream)).events;
        ClientFrames clientFrames = new ClientFrames();
        WholeTextFrames texts = new WholeTextFrames(65_535);
        Layer layer = new Layer();
        int[] direct = {0};
        texts.deliverTo(message -> {
            assertEquals(0, layer.pending.length, "the layer holds part of a frame, " + what);
            if (!layer.closed) {   // the endpoint's session is closed once the layer closed it
                layer.events.add("text " + message);
                direct[0]++;
            }
        }, NO_FRAME_TOO_BIG);
        int at = 0;
        for (int frame = 0; at < stream.length; frame++) {
            int size = random == null ? frames.get(frame).length
                    : Math.min(stream.length - at, random.nextBoolean() ? 1 + random.nextInt(16) : 1 + random.nextInt(8192));
            boolean atMessageStart = clientFrames.atMessageStart();
            Buffer read = clientFrames.unmask(Buffers.wrap(MemoryManager.DEFAULT_MEMORY_MANAGER, Arrays.copyOfRange(stream, at, at + size)));
            if (atMessageStart) {
                texts.deliver(read);
            }
            byte[] rest = new byte[read.remaining()];
            read.get(rest);
            layer.read(rest);
            at += size;
        }
        assertEquals(expected, layer.events, what);
        return direct[0];
    }

    @Test
    void nothingGoesPastTheLayerBeforeTheEndpointAsksForIt() {
        byte[] event = "{\"type\":\"event\",\"event\":\"e\"}".getBytes(StandardCharsets.UTF_8);
        ClientFrames frames = new ClientFrames();
        Buffer read = frames.unmask(Buffers.wrap(MemoryManager.DEFAULT_MEMORY_MANAGER, RawTcp.frame(0x81, event)));
        new WholeTextFrames(65_535).deliver(read);
        assertEquals(2 + event.length, read.remaining(), "left for the layer");
    }

    @Test
    void aTextLongerThanTheLargestMessageIsLeftToTheLayer() {
        WholeTextFrames texts = new WholeTextFrames(100);
        List<String> delivered = new ArrayList<>();
        texts.deliverTo(delivered::add, NO_FRAME_TOO_BIG);
        String fits = "f".repeat(100);
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        stream.writeBytes(masked(0x81, fits.getBytes(StandardCharsets.UTF_8)));
        stream.writeBytes(masked(0x81, "o".repeat(101).getBytes(StandardCharsets.UTF_8)));
        Buffer read = new ClientFrames().unmask(Buffers.wrap(MemoryManager.DEFAULT_MEMORY_MANAGER, stream.toByteArray()));
        texts.deliver(read);
        assertEquals(List.of(fits), delivered);
        assertEquals(2 + 101, read.remaining(), "left for the layer");
    }

    /**
     * A text over the largest message, just over it or far past what the WebSocket layer buffers
     * for a frame, in one read or cut across two: refused as a message over the limit whatever
     * its length and the reads (1009, counted, the socket ends with a policy violation).
     */
    @Test
    void anOversizedTextIsRefusedTheSameWayWhateverTheReads() throws Exception {
        List<String> reasons = new CopyOnWriteArrayList<>();
        try (TestServer server = TestServer.start(TestServer.options().maxPayloadBytes(1000).build(),
                switchboard -> switchboard.onConnection(socket -> socket.onDisconnect(reason -> reasons.add(String.valueOf(reason)))))) {
            byte[] connect = RawTcp.frame(0x81, "{\"type\":\"connect\"}".getBytes(StandardCharsets.UTF_8));
            for (int length : new int[] {1001, 30_000}) {
                byte[] frame = RawTcp.frame(0x81, ("{\"type\":\"event\",\"event\":\"e\",\"args\":[\"" + "z".repeat(length) + "\"]}")
                        .getBytes(StandardCharsets.UTF_8));
                // Whole, cut inside the header (before its 16-bit length), and cut inside the payload.
                for (int cut : new int[] {frame.length, 2, 100}) {
                    long oversized = server.switchboard().metrics().oversizedMessages();
                    int ended = reasons.size();
                    try (RawTcp tcp = RawTcp.upgrade(server.port(), "/switchboard")) {
                        tcp.nextFrame(Duration.ofSeconds(10));   // the hello: the upgrade is done
                        tcp.write(connect);
                        tcp.nextFrame(Duration.ofSeconds(10));   // the connect's answer: a socket to end
                        tcp.write(Arrays.copyOfRange(frame, 0, cut));
                        Thread.sleep(200);
                        tcp.write(Arrays.copyOfRange(frame, cut, frame.length));
                        String what = "a text of " + length + " bytes written in " + (cut == frame.length ? "one read" : "two reads");
                        assertEquals(1009, tcp.readCloseCode(), what);
                        Await.until("the socket ended after " + what, () -> reasons.size() > ended);
                        assertEquals("policy violation", reasons.get(ended), what);
                        assertEquals(oversized + 1, server.switchboard().metrics().oversizedMessages(), what + ", counted");
                    }
                }
            }
        }
    }

    /**
     * Whole messages of each length form, ASCII and not, one in fragments with a ping between
     * them, binary frames, then a text that is not UTF-8 (the layer closes with 1007), one more
     * text, a close frame and a text after it.
     */
    private static List<byte[]> clientFrames() {
        Random random = new Random(7);
        List<byte[]> stream = new ArrayList<>();
        for (int round = 0; round < 30; round++) {
            for (int length : new int[] {0, 1, 125, 126, 300, 65_535, 65_536}) {
                if (round > 2 && length > 1000) {
                    continue;
                }
                stream.add(masked(0x81, text(random, length, round % 3 == 1)));
            }
            byte[] parted = text(random, 200, round % 2 == 0);
            stream.add(masked(0x01, Arrays.copyOfRange(parted, 0, 50)));
            stream.add(masked(0x89, "between".getBytes(StandardCharsets.UTF_8)));
            stream.add(masked(0x00, Arrays.copyOfRange(parted, 50, 120)));
            stream.add(masked(0x80, Arrays.copyOfRange(parted, 120, parted.length)));
            byte[] binary = new byte[1 + random.nextInt(40)];
            random.nextBytes(binary);
            stream.add(masked(0x82, binary));
        }
        stream.add(masked(0x81, new byte[] {'{', (byte) 0xC3, 0x28, '}'}));
        stream.add(masked(0x81, "after the invalid one".getBytes(StandardCharsets.UTF_8)));
        stream.add(masked(0x88, new byte[] {0x03, (byte) 0xE8}));
        stream.add(masked(0x81, "after the close".getBytes(StandardCharsets.UTF_8)));
        return stream;
    }

    private static byte[] joined(List<byte[]> frames) {
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        frames.forEach(stream::writeBytes);
        return stream.toByteArray();
    }

    /** UTF-8 text of about {@code length} bytes, exactly that many when ASCII. */
    private static byte[] text(Random random, int length, boolean ascii) {
        StringBuilder text = new StringBuilder();
        while (text.toString().getBytes(StandardCharsets.UTF_8).length < length) {
            text.append(ascii ? (char) ('a' + random.nextInt(26)) : "aä€😀".charAt(random.nextInt(3)));
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        return ascii ? Arrays.copyOf(bytes, length) : bytes;
    }

    private static byte[] masked(int firstByte, byte[] payload) {
        return RawTcp.frame(firstByte, payload, true, payload.length);
    }

    /** The stream as {@link ClientFrames} passes it on in one read. */
    private static byte[] unmaskedCopy(byte[] stream) {
        Buffer read = new ClientFrames().unmask(Buffers.wrap(MemoryManager.DEFAULT_MEMORY_MANAGER, stream.clone()));
        byte[] bytes = new byte[read.remaining()];
        read.get(bytes);
        return bytes;
    }

    /**
     * What the WebSocket layer delivers from an unmasked stream: whole messages (fragments
     * joined), pings, binary messages; a text that is not UTF-8 closes with 1007 and a close
     * frame closes, after which nothing is delivered. Keeps what a read leaves of a frame.
     */
    private static final class Layer {
        final List<String> events = new ArrayList<>();
        /** What the reads left of a frame. */
        byte[] pending = new byte[0];
        final ByteArrayOutputStream message = new ByteArrayOutputStream();
        boolean inParts;
        boolean closed;

        Layer read(byte[] bytes) {
            byte[] joined = Arrays.copyOf(pending, pending.length + bytes.length);
            System.arraycopy(bytes, 0, joined, pending.length, bytes.length);
            pending = joined;
            byte[] frame;
            while ((frame = nextFrame()) != null) {
                take(frame[0] & 0x0f, (frame[0] & 0x80) != 0, Arrays.copyOfRange(frame, headerLength(frame), frame.length));
            }
            return this;
        }

        private void take(int opcode, boolean last, byte[] payload) {
            if (closed) {
                return;
            }
            switch (opcode) {
                case 0x9 -> events.add("ping " + new String(payload, StandardCharsets.UTF_8));
                case 0x8 -> {
                    events.add("close");
                    closed = true;
                }
                default -> {
                    if (opcode != 0x0 && inParts) {
                        events.add("close 1002");
                        closed = true;
                        return;
                    }
                    inParts = !last;
                    message.writeBytes(payload);
                    if (last) {
                        byte[] whole = message.toByteArray();
                        message.reset();
                        events.add(opcode == 0x2 ? "binary " + whole.length : textOrClose(whole));
                    }
                }
            }
        }

        private String textOrClose(byte[] whole) {
            try {
                return "text " + StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(whole));
            } catch (CharacterCodingException e) {
                closed = true;
                return "close 1007";
            }
        }

        /** The next whole frame, taken off {@code pending}, or null. */
        private byte[] nextFrame() {
            if (pending.length < 2) {
                return null;
            }
            int header = headerLength(pending);
            if (pending.length < header) {
                return null;
            }
            long length = pending[1] & 0x7f;
            if (header > 2) {
                length = 0;
                for (int i = 2; i < header; i++) {
                    length = length << 8 | (pending[i] & 0xff);
                }
            }
            if (pending.length < header + length) {
                return null;
            }
            byte[] frame = Arrays.copyOf(pending, header + (int) length);
            pending = Arrays.copyOfRange(pending, frame.length, pending.length);
            return frame;
        }

        private static int headerLength(byte[] frame) {
            int code = frame[1] & 0x7f;
            return code == 126 ? 4 : code == 127 ? 10 : 2;
        }
    }
}
