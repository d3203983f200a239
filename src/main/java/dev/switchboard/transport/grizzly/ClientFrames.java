package dev.switchboard.transport.grizzly;

import org.glassfish.grizzly.Buffer;

/**
 * Unmasks the frames a client sends before Tyrus reads them, in place: each masked frame loses
 * its mask bit and its four-byte key, and its payload is XORed with the key here. Tyrus reads an
 * unmasked frame's payload with one bulk copy; a masked one it unmasks byte by byte, reading and
 * writing two volatile fields per byte: 8 % of the server's Java samples at S2's highest rates,
 * and with clients that sent unmasked frames the server's user CPU per acknowledged event was
 * about 14 µs against 10.5 (docs/BENCHMARKS.md). What Tyrus then sees is the same frame, unmasked: same
 * opcode, flags, length and payload. A frame that came unmasked, which Tyrus would take, ends the
 * stream instead: RFC 6455 (5.1) has the server close the connection, as Jetty and Tomcat do
 * with 1002; what came before it passes, nothing from it on ({@link #refused()}). So for a data
 * frame that declares more than the largest message ({@link #tooBig()}): Tyrus would buffer up to
 * its incoming buffer of it and fail the connection past that with 1011, or wait for bytes that
 * never come, rather than refuse it as too big.
 *
 * <p>A stream filter: frames, and each part of one (header, length, key, payload), may be split
 * anywhere between reads, so the state of the frame being read carries over from one read to the
 * next. The bytes of a read are rewritten in place and only ever move towards its start (a key
 * is dropped), so one pass does it; the read ends shorter by four bytes per key. The stream starts
 * at a frame's first byte, after the 101: a client must not send frames before it (RFC 6455,
 * 4.1), and one that does is ended with a protocol error, as before.
 *
 * <pre>{@code
 * Buffer forTyrus = clientFrames.unmask(read);   // the same buffer, its limit moved in
 * }</pre>
 *
 * <p>Confined to the thread reading the connection; Grizzly reads one connection on one thread at a time.
 */
final class ClientFrames {
    private static final int FIRST = 0;
    private static final int LENGTH = 1;
    private static final int EXTENDED_LENGTH = 2;
    private static final int KEY = 3;
    private static final int PAYLOAD = 4;
    /** Opcodes from this one up are control frames, which may come between a message's fragments. */
    private static final int FIRST_CONTROL_OPCODE = 0x8;

    /** Which part of a frame the next byte belongs to. */
    private int stage = FIRST;
    /** Whether the frames so far left a data message unfinished: its next frame continues it. */
    private boolean inFragments;
    /** The longest payload a data frame may declare. */
    private final long maxPayload;
    /** Set at the first frame the client did not mask; nothing is passed on after it. */
    private boolean refused;
    /** Set at the first data frame longer than {@code maxPayload}; nothing is passed on after it. */
    private boolean tooBig;
    /** Whether the frame being read carries data (text, binary or a continuation) rather than control. */
    private boolean dataFrame;
    /** Extended length bytes still to come. */
    private int lengthBytesLeft;
    /** The payload's length while the header is read, then the payload bytes still to come. */
    private long payloadLeft;
    /** The key, first byte highest, and how many of its bytes have come. */
    private int key;
    private int keyBytes;
    /** Where in the key the next payload byte is. */
    private int keyIndex;

    /** With no bound on a frame's length: the WebSocket layer's own bounds apply. */
    ClientFrames() {
        this(Long.MAX_VALUE);
    }

    /** @param maxPayload the longest payload a data frame may declare */
    ClientFrames(long maxPayload) {
        this.maxPayload = maxPayload;
    }

    /** Rewrites {@code read} from its position on; returns it with its limit moved in past what was dropped. */
    Buffer unmask(Buffer read) {
        if (refused || tooBig) {
            return read.limit(read.position());
        }
        int in = read.position();
        int out = in;
        // Where the frame being read starts in what is passed on: a frame too long is cut off there.
        int frameStart = in;
        int end = read.limit();
        while (in < end) {
            if (stage == PAYLOAD) {
                int run = (int) Math.min(payloadLeft, end - in);
                copyPayload(read, in, out, run);
                in += run;
                out += run;
                payloadLeft -= run;
                if (payloadLeft == 0) {
                    stage = FIRST;
                }
                continue;
            }
            byte next = read.get(in++);
            switch (stage) {
                case FIRST -> {
                    frameStart = out;
                    read.put(out++, next);
                    frameStarts(next);
                    stage = LENGTH;
                }
                case LENGTH -> {
                    if ((next & 0x80) == 0) {
                        // The frame's first byte is just before this one, or went on with an earlier read.
                        refused = true;
                        return read.limit(Math.max(out - 1, read.position()));
                    }
                    int code = next & 0x7f;
                    read.put(out++, (byte) code);
                    if (code < 126) {
                        payloadLeft = code;
                        headerRead();
                    } else {
                        payloadLeft = 0;
                        lengthBytesLeft = code == 126 ? 2 : 8;
                        stage = EXTENDED_LENGTH;
                    }
                }
                case EXTENDED_LENGTH -> {
                    read.put(out++, next);
                    payloadLeft = payloadLeft << 8 | (next & 0xff);
                    if (--lengthBytesLeft == 0) {
                        headerRead();
                    }
                }
                case KEY -> {   // dropped from the stream
                    key = key << 8 | (next & 0xff);
                    if (++keyBytes == 4) {
                        keyIndex = 0;
                        payloadFollows();
                    }
                }
                default -> throw new IllegalStateException("stage " + stage);
            }
            if (tooBig) {
                return read.limit(frameStart);
            }
        }
        read.limit(out);
        return read;
    }

    /**
     * Whether the next byte starts a frame that starts a message (not one in the middle of a
     * message in fragments, which Tyrus must see to refuse), in a stream not refused: where
     * {@link WholeTextFrames} may read.
     */
    boolean atMessageStart() {
        return stage == FIRST && !inFragments && !refused && !tooBig;
    }

    private void frameStarts(byte first) {
        dataFrame = (first & 0x0f) < FIRST_CONTROL_OPCODE;
        if (dataFrame) {
            inFragments = (first & 0x80) == 0;
        }
    }

    private void headerRead() {
        keyBytes = 0;
        stage = KEY;
        tooBig = dataFrame && payloadLeft > maxPayload;
    }

    /** Whether the client sent a frame without a mask: the connection must be closed with 1002. */
    boolean refused() {
        return refused;
    }

    /** Whether the client sent a data frame longer than the largest message: the connection must be closed with 1009. */
    boolean tooBig() {
        return tooBig;
    }

    private void payloadFollows() {
        if (payloadLeft < 0) {
            // A length with its top bit set, which Tyrus refuses: what follows passes on until it does.
            payloadLeft = Long.MAX_VALUE;
        }
        stage = payloadLeft == 0 ? FIRST : PAYLOAD;
    }

    /** Moves {@code length} payload bytes from {@code from} to {@code to} (not after it), unmasking them. */
    private void copyPayload(Buffer read, int from, int to, int length) {
        if (read.hasArray()) {
            byte[] bytes = read.array();
            int offset = read.arrayOffset();
            for (int i = 0; i < length; i++) {
                bytes[offset + to + i] = (byte) (bytes[offset + from + i] ^ keyByte(keyIndex++));
            }
        } else {
            for (int i = 0; i < length; i++) {
                read.put(to + i, (byte) (read.get(from + i) ^ keyByte(keyIndex++)));
            }
        }
    }

    /** The key's byte for payload byte {@code index}. */
    private int keyByte(int index) {
        return key >>> (24 - 8 * (index & 3));
    }
}
