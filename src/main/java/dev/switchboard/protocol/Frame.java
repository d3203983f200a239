package dev.switchboard.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A packet encoded once, ready to hand to any number of recipients: a broadcast to a thousand
 * sockets is encoded once and queues the same string a thousand times. Recipients on another
 * wire format ask for {@link #text(Codec)}, which encodes the packet once more for that codec and
 * keeps the result, so a broadcast costs one encoding per wire format in use.
 *
 * <pre>{@code
 * Frame frame = Frame.encode(codec, Packet.event("/chat", "message", JsonMapper.toRawList("hi"), 0));
 * for (String socketId : recipients) localNamespace.deliver(socketId, frame, false);
 * String forSocketIo = frame.text(socketIoCodec);
 * ByteBuffer payload = frame.utf8(codec);   // for a transport that sends bytes: encoded once, shared
 * }</pre>
 *
 * <p>Thread-safe: the encoding for another codec, and the UTF-8 bytes of an encoding, are computed
 * by whichever thread asks first and published through volatile fields; a race computes them
 * twice, never wrongly.
 */
public final class Frame {
    private final Packet packet;
    private final Encoding first;
    /** The latest encoding for a codec other than the first's, or {@code null}. */
    private volatile Encoding other;

    private static final class Encoding {
        final Codec codec;
        final String text;
        final int bytes;
        /** The text in UTF-8, read-only, made on first request: only transports that send bytes ask. */
        private volatile ByteBuffer utf8;

        Encoding(Codec codec, String text) {
            this.codec = codec;
            this.text = text;
            this.bytes = utf8Length(text);
        }

        ByteBuffer utf8() {
            ByteBuffer cached = utf8;
            if (cached == null) {
                cached = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)).asReadOnlyBuffer();
                utf8 = cached;
            }
            return cached;
        }
    }

    private Frame(Packet packet, Codec codec, String text) {
        this.packet = Objects.requireNonNull(packet, "packet");
        this.first = new Encoding(codec, Objects.requireNonNull(text, "text"));
    }

    /** Encodes {@code packet} with {@code codec}. */
    public static Frame encode(Codec codec, Packet packet) {
        return new Frame(packet, codec, codec.encode(packet));
    }

    /** The packet, for listeners that inspect outgoing events. */
    public Packet packet() {
        return packet;
    }

    /** The frame as the codec it was made with encoded it. */
    public String text() {
        return first.text;
    }

    /** Its size in UTF-8, what it costs a send queue. */
    public int bytes() {
        return first.bytes;
    }

    /** The frame as {@code codec} encodes it. */
    public String text(Codec codec) {
        return encoding(codec).text;
    }

    /** Its size in UTF-8 as {@code codec} encodes it. */
    public int bytes(Codec codec) {
        return encoding(codec).bytes;
    }

    /**
     * The frame as {@code codec} encodes it, in UTF-8: one read-only buffer, made on the first
     * request and shared by every recipient after it. Read it through {@link ByteBuffer#duplicate()},
     * so that one reader's position does not move another's.
     */
    public ByteBuffer utf8(Codec codec) {
        return encoding(codec).utf8();
    }

    private Encoding encoding(Codec codec) {
        if (first.codec == codec) {
            return first;
        }
        Encoding cached = other;
        if (cached == null || cached.codec != codec) {
            cached = new Encoding(codec, codec.encode(packet));
            other = cached;
        }
        return cached;
    }

    /** The UTF-8 length of {@code text}, without encoding it. */
    public static int utf8Length(CharSequence text) {
        int length = text.length();
        int bytes = length;
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            if (c >= 0x80) {
                if (c < 0x800) {
                    bytes += 1;
                } else if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(text.charAt(i + 1))) {
                    bytes += 2;
                    i++;
                } else {
                    bytes += 2;
                }
            }
        }
        return bytes;
    }
}
