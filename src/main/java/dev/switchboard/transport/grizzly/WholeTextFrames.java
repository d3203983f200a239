package dev.switchboard.transport.grizzly;

import dev.switchboard.transport.DirectText;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.glassfish.grizzly.Buffer;
import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.Grizzly;
import org.glassfish.grizzly.attributes.Attribute;

/**
 * A client's whole text messages, read off the connection past Tyrus: each read that starts where a
 * message starts gives its leading unfragmented text frames to the endpoint here, and the rest of
 * the read (any other frame, a frame cut by the read's end, and all after them) to Tyrus, which
 * then has nothing of an earlier frame pending. Tyrus's path for a text frame costs the selector
 * thread more than the rest of the read: a copy of the payload, a decoder and a char buffer per
 * frame, a lock, and a map of the session's handlers copied per message (docs/BENCHMARKS.md).
 *
 * <p>Only what Tyrus would deliver as one whole message is taken: a final text frame without
 * extension bits, in the two-byte or 16-bit length form, no longer than the largest message,
 * whose payload is UTF-8. Anything else,
 * invalid UTF-8 included, goes to Tyrus, which refuses it as before. The bytes are already
 * unmasked ({@link ClientFrames}).
 *
 * <pre>{@code
 * WholeTextFrames.attach(connection, maxPayloadBytes);       // at the upgrade, before the endpoint opens
 * directText.deliverTo(message -> onText(message, true, session), tooBig);   // the endpoint, once it serves
 * frames.deliver(unmaskedRead);                              // each read, on the selector thread
 * frames.refuseTooBig();                                     // a frame past maxPayload, on the same thread
 * }</pre>
 *
 * <p>Threads: the endpoint sets the sink once, on the thread that upgrades; the reads run on the
 * thread reading the connection, one at a time, which alone uses the decoder.
 */
final class WholeTextFrames implements DirectText {
    private static final Attribute<WholeTextFrames> ATTACHED =
            Grizzly.DEFAULT_ATTRIBUTE_BUILDER.createAttribute(WholeTextFrames.class.getName());
    /** FIN and the text opcode, no extension bits. */
    private static final byte FINAL_TEXT = (byte) 0x81;
    private static final int LENGTH_16 = 126;
    private static final int LENGTH_64 = 127;

    /**
     * The longest payload taken here. A longer one goes to Tyrus, as before: so a message over the
     * limit is refused the same way whatever the reads cut (past Tyrus's buffer, Tyrus closes
     * with 1011; within it, the endpoint with 1009).
     */
    private final int maxPayload;
    private volatile Consumer<String> sink;
    private volatile Runnable tooBig;
    /** Made at the first message that is not ASCII. */
    private CharsetDecoder utf8;

    WholeTextFrames(int maxPayload) {
        this.maxPayload = maxPayload;
    }

    /** Gives {@code connection} a reader for the endpoint that opens on it next. */
    static WholeTextFrames attach(Connection<?> connection, int maxPayload) {
        WholeTextFrames frames = new WholeTextFrames(maxPayload);
        ATTACHED.set(connection, frames);
        return frames;
    }

    /** {@code connection}'s reader, or null when its upgrade went past the guard. */
    static WholeTextFrames of(Connection<?> connection) {
        return ATTACHED.get(connection);
    }

    @Override
    public void deliverTo(Consumer<String> sink, Runnable tooBig) {
        this.tooBig = tooBig;
        this.sink = sink;
    }

    /** The longest payload a data frame may declare ({@link ClientFrames} refuses longer ones). */
    int maxPayload() {
        return maxPayload;
    }

    /**
     * The client sent a data frame longer than the largest message, which goes no further: tells
     * the endpoint, which closes with 1009.
     *
     * @return false when no endpoint asked to be told
     */
    boolean refuseTooBig() {
        Runnable to = tooBig;
        if (to == null) {
            return false;
        }
        to.run();
        return true;
    }

    /**
     * Delivers the whole text frames {@code read} starts with, and moves its position past them.
     * The read must start at a frame that starts a message.
     */
    void deliver(Buffer read) {
        Consumer<String> to = sink;
        if (to == null || !read.hasArray()) {
            return;
        }
        byte[] bytes = read.array();
        int base = read.arrayOffset();
        int at = read.position();
        int end = read.limit();
        while (end - at >= 2 && bytes[base + at] == FINAL_TEXT) {
            int length = bytes[base + at + 1];   // unmasked, so the mask bit is clear
            int header = 2;
            if (length == LENGTH_64) {
                return;
            }
            if (length == LENGTH_16) {
                if (end - at < 4) {
                    return;
                }
                length = (bytes[base + at + 2] & 0xff) << 8 | (bytes[base + at + 3] & 0xff);
                header = 4;
            }
            if (length > maxPayload || end - at - header < length) {
                return;
            }
            String text = decode(bytes, base + at + header, length);
            if (text == null) {
                return;
            }
            at += header + length;
            read.position(at);
            to.accept(text);
        }
    }

    /** The payload as text, or null when it is not UTF-8. */
    private String decode(byte[] bytes, int from, int length) {
        for (int i = from; i < from + length; i++) {
            if (bytes[i] < 0) {
                return decodeNonAscii(bytes, from, length);
            }
        }
        return new String(bytes, from, length, StandardCharsets.ISO_8859_1);
    }

    private String decodeNonAscii(byte[] bytes, int from, int length) {
        if (utf8 == null) {
            utf8 = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
        }
        try {
            return utf8.reset().decode(ByteBuffer.wrap(bytes, from, length)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
