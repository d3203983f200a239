package dev.switchboard.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The bytes a server puts on the wire for one whole text message (RFC 6455, section 5.2): FIN
 * and opcode 1, the payload length in 7, 16 or 64 bits, no mask (servers never mask), then the
 * UTF-8 payload; a packet with binary arguments adds one binary frame (opcode 2) per attachment. A broadcast frames its message once ({@link Frame#serverFrame(Codec)}) and hands
 * the same bytes to every recipient's connection, instead of the container encoding and framing
 * the string again for each.
 *
 * <pre>{@code
 * ByteBuffer frame = WebSocketFraming.serverTextFrame("{\"t\":\"event\"}");
 * channel.write(frame.duplicate());   // a duplicate per write: each write moves its own position
 * }</pre>
 */
public final class WebSocketFraming {
    private static final int FIN_TEXT = 0x81;
    private static final int FIN_BINARY = 0x82;
    private static final int LENGTH_16 = 126;
    private static final int LENGTH_64 = 127;

    private WebSocketFraming() {
    }

    /** The whole frame for {@code text}, read-only, positioned at its start. */
    public static ByteBuffer serverTextFrame(String text) {
        return serverFrames(text, List.of());
    }

    /**
     * The text frame for {@code text} followed by one binary frame per attachment (a packet with
     * binary arguments), in one read-only buffer positioned at its start.
     */
    public static ByteBuffer serverFrames(String text, List<byte[]> attachments) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        int size = headerLength(payload.length) + payload.length;
        for (byte[] attachment : attachments) {
            size += headerLength(attachment.length) + attachment.length;
        }
        ByteBuffer frames = ByteBuffer.allocate(size);
        put(frames, FIN_TEXT, payload);
        for (byte[] attachment : attachments) {
            put(frames, FIN_BINARY, attachment);
        }
        return frames.flip().asReadOnlyBuffer();
    }

    private static void put(ByteBuffer frames, int finAndOpcode, byte[] payload) {
        frames.put((byte) finAndOpcode);
        if (payload.length < LENGTH_16) {
            frames.put((byte) payload.length);
        } else if (payload.length <= 0xFFFF) {
            frames.put((byte) LENGTH_16).putShort((short) payload.length);
        } else {
            frames.put((byte) LENGTH_64).putLong(payload.length);
        }
        frames.put(payload);
    }

    /** The length of an unmasked frame's header for a payload of {@code payloadBytes}. */
    public static int headerLength(int payloadBytes) {
        return payloadBytes < LENGTH_16 ? 2 : payloadBytes <= 0xFFFF ? 4 : 10;
    }
}
