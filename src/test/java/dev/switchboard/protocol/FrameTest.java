package dev.switchboard.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.protocol.socketio.SocketIoCodec;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A frame's UTF-8 payload: the codec's text in UTF-8, shared read-only; on the heap for the first
 * recipient, then once off it for every other (a broadcast's).
 */
class FrameTest {
    private final Codec json = new JsonWireCodec();
    private final Codec socketIo = new SocketIoCodec(false);
    private final Frame frame = Frame.encode(json,
            Packet.event("/", "msg", JsonMapper.toRawList("Zoë 5 € 🍕"), 0));

    @Test
    void theUtf8PayloadIsEachCodecsTextMadeOnceAndReadOnly() {
        for (Codec codec : new Codec[] {json, socketIo}) {
            ByteBuffer first = frame.utf8(codec);
            ByteBuffer shared = frame.utf8(codec);
            assertFalse(first.isDirect(), "one recipient does not pay for a direct buffer");
            assertTrue(shared.isDirect(), "a broadcast's is written without a copy");
            assertSame(shared, frame.utf8(codec), "made once, then shared");
            for (ByteBuffer payload : new ByteBuffer[] {first, shared}) {
                assertEquals(frame.text(codec), StandardCharsets.UTF_8.decode(payload.duplicate()).toString());
                assertEquals(frame.bytes(codec), payload.remaining());
                assertThrows(ReadOnlyBufferException.class, () -> payload.put(0, (byte) 0));
            }
        }
    }
}
