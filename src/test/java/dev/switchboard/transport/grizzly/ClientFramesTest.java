package dev.switchboard.transport.grizzly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.testing.RawTcp;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.glassfish.grizzly.Buffer;
import org.glassfish.grizzly.memory.Buffers;
import org.glassfish.grizzly.memory.MemoryManager;
import org.junit.jupiter.api.Test;

/**
 * {@link ClientFrames} turns a client's masked frames into the same frames unmasked, whatever
 * the reads cut them into: the header, the extended length, the key and the payload may each be
 * split anywhere. Checked against frames made unmasked from the start. A frame the client did not
 * mask ends what is passed on, wherever the reads cut it.
 */
class ClientFramesTest {
    /** Payload lengths on both sides of each length encoding: 7 bits, 16 bits, 64 bits. */
    private static final int[] LENGTHS = {0, 1, 3, 4, 5, 125, 126, 127, 300, 65_535, 65_536, 70_000};

    @Test
    void masksAreTakenOffWhereverTheReadsCutTheFrames() {
        ByteArrayOutputStream masked = new ByteArrayOutputStream();
        ByteArrayOutputStream unmasked = new ByteArrayOutputStream();
        Random random = new Random(42);
        for (int length : LENGTHS) {
            byte[] payload = new byte[length];
            random.nextBytes(payload);
            int firstByte = length <= 125 && random.nextBoolean() ? 0x89 : 0x82;   // a ping or a binary frame
            masked.writeBytes(RawTcp.frame(firstByte, payload, true, length));
            unmasked.writeBytes(RawTcp.frame(firstByte, payload, false, length));
        }
        // A frame the client sent unmasked ends the stream: it and everything after it are dropped.
        byte[] connect = "{\"type\":\"connect\"}".getBytes(StandardCharsets.US_ASCII);
        masked.writeBytes(RawTcp.frame(0x81, connect, false, connect.length));
        masked.writeBytes(RawTcp.frame(0x81, connect, true, connect.length));
        for (int seed = 0; seed < 20; seed++) {
            for (boolean heap : new boolean[] {true, false}) {
                ClientFrames frames = new ClientFrames();
                assertPassedUpToTheRefusal(unmasked.toByteArray(), throughClientFrames(frames, masked.toByteArray(), new Random(seed), heap),
                        "seed " + seed + (heap ? ", heap buffers" : ", direct buffers"));
                assertTrue(frames.refused(), "the unmasked frame is refused");
            }
        }
    }

    @Test
    void anUnmaskedFrameFirstPassesNothing() {
        byte[] connect = "{\"type\":\"connect\"}".getBytes(StandardCharsets.US_ASCII);
        for (int seed = 0; seed < 5; seed++) {
            ClientFrames frames = new ClientFrames();
            assertPassedUpToTheRefusal(new byte[0], throughClientFrames(frames, RawTcp.frame(0x81, connect, false, connect.length),
                    new Random(seed), true), "seed " + seed);
            assertTrue(frames.refused());
        }
    }

    /**
     * What came before the unmasked frame, and of that frame at most its first byte: a read that
     * ends right after it has passed it on before the next read shows the frame unmasked.
     */
    private static void assertPassedUpToTheRefusal(byte[] before, byte[] passed, String what) {
        byte[] expected = passed.length == before.length + 1 ? Arrays.copyOf(before, before.length + 1) : before;
        if (expected != before) {
            expected[before.length] = (byte) 0x81;
        }
        assertArrayEquals(expected, passed, what);
    }

    /** The stream in reads of random sizes, one byte to a few kilobytes, each read starting at a random offset of its buffer. */
    private static byte[] throughClientFrames(ClientFrames frames, byte[] stream, Random random, boolean heap) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = 0;
        while (at < stream.length) {
            int size = Math.min(stream.length - at, random.nextBoolean() ? 1 + random.nextInt(8) : 1 + random.nextInt(4096));
            int offset = random.nextInt(4);
            ByteBuffer bytes = heap ? ByteBuffer.allocate(offset + size) : ByteBuffer.allocateDirect(offset + size);
            bytes.position(offset);
            bytes.put(stream, at, size).flip().position(offset);
            Buffer read = frames.unmask(Buffers.wrap(MemoryManager.DEFAULT_MEMORY_MANAGER, bytes));
            byte[] result = new byte[read.remaining()];
            read.get(result);
            out.writeBytes(result);
            at += size;
        }
        return out.toByteArray();
    }
}
