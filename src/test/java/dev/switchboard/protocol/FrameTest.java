package dev.switchboard.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.switchboard.protocol.socketio.SocketIoCodec;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A frame's UTF-8 payload: the codec's text in UTF-8, made once per codec, shared read-only. */
class FrameTest {
    private final Codec json = new JsonWireCodec();
    private final Codec socketIo = new SocketIoCodec(false, List.of());
    private final Frame frame = Frame.encode(json,
            Packet.event("/", "msg", JsonMapper.toRawList("Zoë 5 € 🍕"), 0));

    @Test
    void theUtf8PayloadIsEachCodecsTextMadeOnceAndReadOnly() {
        for (Codec codec : new Codec[] {json, socketIo}) {
            ByteBuffer payload = frame.utf8(codec);
            assertEquals(frame.text(codec), StandardCharsets.UTF_8.decode(payload.duplicate()).toString());
            assertEquals(frame.bytes(codec), payload.remaining());
            assertSame(payload, frame.utf8(codec), "made once, then shared");
            assertThrows(ReadOnlyBufferException.class, () -> payload.put(0, (byte) 0));
        }
    }
}
