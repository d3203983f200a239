package dev.switchboard.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
 * <p>A packet with binary attachments ({@link Payload}) is its text followed by one binary
 * frame per attachment; the attachments are the same for every wire format, so only the text is
 * encoded per codec, and {@link #bytes} counts them too.
 *
 * <p>Thread-safe: the encoding for another codec, the UTF-8 bytes of an encoding and the framed
 * bytes are computed by whichever thread asks first and published through volatile fields; a
 * race computes them twice, never wrongly.
 */
public final class Frame {
    private final Packet packet;
    private final Encoding first;
    /** The latest encoding for a codec other than the first's, or {@code null}. */
    private volatile Encoding other;
    /** The latest encoding framed for the wire, see {@link #serverFrame}, or {@code null}. */
    private volatile ServerFrame framed;

    private static final class Encoding {
        final Codec codec;
        final String text;
        final int bytes;
        /** The text in UTF-8, read-only, made on first request: only transports that send bytes ask. */
        private volatile ByteBuffer utf8;

        Encoding(Codec codec, String text, int bytes) {
            this.codec = codec;
            this.text = text;
            this.bytes = bytes;
        }

        ByteBuffer utf8() {
            ByteBuffer cached = utf8;
            ByteBuffer shared = cached == null
                    ? ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)).asReadOnlyBuffer() : forBroadcast(cached);
            if (shared != cached) {
                utf8 = shared;
            }
            return shared;
        }
    }

    /**
     * A frame's wire bytes asked for again, which made them on the heap the first time: a
     * broadcast's, written to many sockets, so copied once into a direct buffer, which a socket
     * write takes as it is (it copies a heap buffer into a native one first, each time); already
     * direct, the same. Not off the heap for the first recipient: allocating a direct buffer costs
     * more than a copy or two.
     */
    private static ByteBuffer forBroadcast(ByteBuffer made) {
        if (made.isDirect()) {
            return made;
        }
        return ByteBuffer.allocateDirect(made.remaining()).put(made.duplicate()).flip().asReadOnlyBuffer();
    }

    /** @param frame on the heap for the first recipient, off it from the second on */
    private record ServerFrame(Codec codec, ByteBuffer frame) {
    }

    private Frame(Packet packet, Codec codec, String text) {
        this.packet = Objects.requireNonNull(packet, "packet");
        this.first = new Encoding(codec, Objects.requireNonNull(text, "text"), cost(packet, text));
    }

    /** What the frame costs a send queue: its text in UTF-8 and its attachments. */
    private static int cost(Packet packet, String text) {
        return (int) Math.min(Integer.MAX_VALUE, utf8Length(text) + packet.attachmentBytes());
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

    /** The binary frames that follow the text, in order; empty for most frames. */
    public List<byte[]> attachments() {
        return packet.attachments();
    }

    /** Its size in UTF-8 plus its attachments' bytes, what it costs a send queue. */
    public int bytes() {
        return first.bytes;
    }

    /** The frame as {@code codec} encodes it. */
    public String text(Codec codec) {
        return encoding(codec).text;
    }

    /** Its size as {@code codec} encodes it, attachments included. */
    public int bytes(Codec codec) {
        return encoding(codec).bytes;
    }

    /**
     * The frame as {@code codec} encodes it, in UTF-8, read-only: made on the heap for the first
     * request, then once in a direct buffer shared by every recipient after it (a broadcast's),
     * as {@link #serverFrame} is. Read it through {@link ByteBuffer#duplicate()}, so that one
     * reader's position does not move another's.
     */
    public ByteBuffer utf8(Codec codec) {
        return encoding(codec).utf8();
    }

    /**
     * The WebSocket frames a server sends for {@link #text(Codec)} and the {@link #attachments()}, headers included
     * ({@link WebSocketFraming}), made by the first recipient that asks and shared with the others
     * (from the second on, in a direct buffer, which a socket write takes without a copy):
     * read-only, so each write takes a {@link ByteBuffer#duplicate()} for a position of its own.
     */
    public ByteBuffer serverFrame(Codec codec) {
        ServerFrame cached = framed;
        ByteBuffer last = cached != null && cached.codec() == codec ? cached.frame() : null;
        ByteBuffer shared = last == null ? WebSocketFraming.serverFrames(text(codec), attachments()) : forBroadcast(last);
        if (shared != last) {
            framed = new ServerFrame(codec, shared);
        }
        return shared;
    }

    private Encoding encoding(Codec codec) {
        if (first.codec == codec) {
            return first;
        }
        Encoding cached = other;
        if (cached == null || cached.codec != codec) {
            String text = codec.encode(packet);
            cached = new Encoding(codec, text, cost(packet, text));
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
