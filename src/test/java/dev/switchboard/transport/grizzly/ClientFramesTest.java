package dev.switchboard.transport.grizzly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.switchboard.testing.RawTcp;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Random;
import org.glassfish.grizzly.Buffer;
import org.glassfish.grizzly.memory.Buffers;
import org.glassfish.grizzly.memory.MemoryManager;
import org.junit.jupiter.api.Test;

/**
 * {@link ClientFrames} turns a client's masked frames into the same frames unmasked, whatever
 * the reads cut them into: the header, the extended length, the key and the payload may each be
 * split anywhere. Checked against frames made unmasked from the start.
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
        // A frame the client sent unmasked passes as it is.
        byte[] plain = RawTcp.frame(0x81, "{\"type\":\"connect\"}".getBytes(java.nio.charset.StandardCharsets.US_ASCII), false, 18);
        masked.writeBytes(plain);
        unmasked.writeBytes(plain);
        for (int seed = 0; seed < 20; seed++) {
            for (boolean heap : new boolean[] {true, false}) {
                assertArrayEquals(unmasked.toByteArray(), throughClientFrames(masked.toByteArray(), new Random(seed), heap),
                        "seed " + seed + (heap ? ", heap buffers" : ", direct buffers"));
            }
        }
    }

    /** The stream in reads of random sizes, one byte to a few kilobytes, each read starting at a random offset of its buffer. */
    private static byte[] throughClientFrames(byte[] stream, Random random, boolean heap) {
        ClientFrames frames = new ClientFrames();
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
