package dev.switchboard.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.switchboard.protocol.socketio.SocketIoCodec;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Binary arguments as placeholders plus attachments, in both wire formats, and their reassembly. */
class PayloadTest {
    private static final String PLACEHOLDER_0 = "{\"_placeholder\":true,\"num\":0}";
    private static final String PLACEHOLDER_1 = "{\"_placeholder\":true,\"num\":1}";

    @Test
    void binaryValuesBecomePlaceholdersAtTheTopLevelAndNested() {
        byte[] mine = {1, 2};
        Payload payload = Payload.of("name", mine, Map.of("thumb", ByteBuffer.wrap(new byte[] {3})), List.of(4));
        assertEquals("[\"name\", " + PLACEHOLDER_0 + ", {\"thumb\":" + PLACEHOLDER_1 + "}, [4]]", payload.args().toString());
        mine[0] = 9;
        assertArrayEquals(new byte[] {1, 2}, payload.attachments().get(0), "the caller's array is copied");
        assertArrayEquals(new byte[] {3}, payload.attachments().get(1));
    }

    @Test
    void aHandlerAsksForBytesOrABuffer() {
        Payload payload = Payload.of("x", new byte[] {5, 6});
        Arguments args = Arguments.of(payload.args(), payload.attachments());
        assertArrayEquals(new byte[] {5, 6}, args.get(1, byte[].class));
        assertEquals(2, args.get(1, ByteBuffer.class).remaining());
        assertEquals("x", args.get(0, String.class));
        assertNull(args.get(2, byte[].class), "a missing argument reads as null");
    }

    @Test
    void bothWireFormatsAnnounceTheAttachments() throws ProtocolException {
        Packet event = Packet.event("/files", "up", Payload.of(new byte[] {1}), 3);
        assertEquals("451-/files,2[\"up\"," + PLACEHOLDER_0 + "]", new SocketIoCodec(false).encode(event));
        String text = new JsonWireCodec().encode(event);
        assertEquals("{\"type\":\"event\",\"nsp\":\"/files\",\"event\":\"up\",\"args\":[" + PLACEHOLDER_0
                + "],\"ack\":3,\"attachments\":1}", text);
        assertEquals(1, new JsonWireCodec().decode(text).expectedAttachments());
        assertEquals("461-/files,2[" + PLACEHOLDER_0 + "]",
                new SocketIoCodec(false).encode(Packet.ack("/files", 3, Payload.of(new byte[] {1}))));
    }

    @Test
    void theAssemblerJoinsAPacketToItsAttachments() throws ProtocolException {
        AttachmentAssembler assembler = new AttachmentAssembler(10, 1000);
        Packet text = new SocketIoCodec(false).decode("451-[\"up\"," + PLACEHOLDER_0 + "]");
        assertNull(assembler.onText(text, 30));
        Packet whole = assembler.onBinary(new byte[] {7});
        assertArrayEquals(new byte[] {7}, Arguments.from(whole).get(0, byte[].class));
        assertEquals(0, whole.expectedAttachments());
    }

    @Test
    void theAssemblerRefusesWhatBreaksTheSequence() throws ProtocolException {
        SocketIoCodec codec = new SocketIoCodec(false);
        AttachmentAssembler assembler = new AttachmentAssembler(2, 100);
        assertEquals(ProtocolException.BAD_ATTACHMENTS,
                assertThrows(ProtocolException.class, () -> assembler.onBinary(new byte[1])).code());
        assertEquals(ProtocolException.BAD_ATTACHMENTS,
                assertThrows(ProtocolException.class, () -> assembler.onText(codec.decode("453-[\"up\"]"), 10)).code());
        assembler.onText(codec.decode("451-[\"up\"," + PLACEHOLDER_0 + "]"), 10);
        assertEquals(ProtocolException.TOO_BIG,
                assertThrows(ProtocolException.class, () -> assembler.onBinary(new byte[100])).code());
        assembler.onText(codec.decode("451-[\"up\"," + PLACEHOLDER_1 + "]"), 10);
        assertEquals(ProtocolException.BAD_PACKET,
                assertThrows(ProtocolException.class, () -> assembler.onBinary(new byte[1])).code(),
                "a placeholder naming no attachment");
        Packet plain = codec.decode("42[\"up\"]");
        assertEquals(plain, assembler.onText(plain, 5), "nothing is held after a refusal");
    }
}
