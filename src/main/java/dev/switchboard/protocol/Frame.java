package dev.switchboard.protocol;

import java.util.Objects;

/**
 * A packet encoded once, ready to hand to any number of recipients: a broadcast to a thousand
 * sockets is encoded once and queues the same string a thousand times.
 *
 * <pre>{@code
 * Frame frame = Frame.encode(codec, Packet.event("/chat", "message", JsonMapper.toRawList("hi"), 0));
 * for (String socketId : recipients) localNamespace.deliver(socketId, frame, false);
 * }</pre>
 *
 * @param packet the packet, for listeners that inspect outgoing events
 * @param text   the encoded frame
 * @param bytes  its size in UTF-8, what it costs a send queue
 */
public record Frame(Packet packet, String text, int bytes) {
    public Frame {
        Objects.requireNonNull(packet, "packet");
        Objects.requireNonNull(text, "text");
    }

    /** Encodes {@code packet} with {@code codec}. */
    public static Frame encode(Codec codec, Packet packet) {
        String text = codec.encode(packet);
        return new Frame(packet, text, utf8Length(text));
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
