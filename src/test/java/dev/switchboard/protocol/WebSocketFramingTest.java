package dev.switchboard.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The server text frame of RFC 6455, section 5.2, with the shortest length encoding it requires. */
class WebSocketFramingTest {

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    private static void assertFrame(String text, byte[] expectedHeader) {
        ByteBuffer frame = WebSocketFraming.serverTextFrame(text);
        assertTrue(frame.isReadOnly());
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        byte[] all = bytes(frame);
        assertArrayEquals(expectedHeader, Arrays.copyOf(all, expectedHeader.length), "header for " + payload.length + " bytes");
        assertArrayEquals(payload, Arrays.copyOfRange(all, expectedHeader.length, all.length));
        assertEquals(expectedHeader.length, WebSocketFraming.headerLength(payload.length));
    }

    @Test
    void lengthsTakeSevenSixteenOrSixtyFourBitsAsTheyMust() {
        assertFrame("", new byte[] {(byte) 0x81, 0});
        assertFrame("a".repeat(125), new byte[] {(byte) 0x81, 125});
        assertFrame("a".repeat(126), new byte[] {(byte) 0x81, 126, 0, 126});
        assertFrame("a".repeat(0xFFFF), new byte[] {(byte) 0x81, 126, (byte) 0xFF, (byte) 0xFF});
        assertFrame("a".repeat(0x10000), new byte[] {(byte) 0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0});
    }

    @Test
    void theLengthIsThatOfTheUtf8Bytes() {
        // 63 characters of 2 bytes: 126 bytes, past the 7-bit length though the string is short.
        assertFrame("é".repeat(63), new byte[] {(byte) 0x81, 126, 0, 126});
        assertFrame("€𝄞", new byte[] {(byte) 0x81, 7});
    }

    @Test
    void aFrameIsFramedOnceAndShared() {
        Codec codec = new JsonWireCodec();
        Frame frame = Frame.encode(codec, Packet.event("/", "msg", JsonMapper.toRawList("hi"), 0));
        ByteBuffer framed = frame.serverFrame(codec);
        assertEquals(frame.text(), new String(Arrays.copyOfRange(bytes(framed), 2, framed.remaining()), StandardCharsets.UTF_8));
        ByteBuffer shared = frame.serverFrame(codec);
        assertTrue(shared.isDirect(), "a frame asked for twice is a broadcast's, kept off the heap");
        assertEquals(framed, shared);
        assertSame(shared, frame.serverFrame(codec));
    }
}
