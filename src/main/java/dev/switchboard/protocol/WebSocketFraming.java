package dev.switchboard.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The bytes a server puts on the wire for one whole text message (RFC 6455, section 5.2): FIN
 * and opcode 1, the payload length in 7, 16 or 64 bits, no mask (servers never mask), then the
 * UTF-8 payload. A broadcast frames its message once ({@link Frame#serverFrame(Codec)}) and hands
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
    private static final int LENGTH_16 = 126;
    private static final int LENGTH_64 = 127;

    private WebSocketFraming() {
    }

    /** The whole frame for {@code text}, read-only, positioned at its start. */
    public static ByteBuffer serverTextFrame(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        int header = headerLength(payload.length);
        ByteBuffer frame = ByteBuffer.allocate(header + payload.length);
        frame.put((byte) FIN_TEXT);
        if (payload.length < LENGTH_16) {
            frame.put((byte) payload.length);
        } else if (payload.length <= 0xFFFF) {
            frame.put((byte) LENGTH_16).putShort((short) payload.length);
        } else {
            frame.put((byte) LENGTH_64).putLong(payload.length);
        }
        frame.put(payload).flip();
        return frame.asReadOnlyBuffer();
    }

    /** The length of an unmasked frame's header for a payload of {@code payloadBytes}. */
    public static int headerLength(int payloadBytes) {
        return payloadBytes < LENGTH_16 ? 2 : payloadBytes <= 0xFFFF ? 4 : 10;
    }
}
