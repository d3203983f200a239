package dev.switchboard.bench;

/**
 * The generator's payload, {@code {"s":SEQ,"t":NANOS,"p":"xxx…"}}: a sequence number for loss and
 * duplicate counts, and the intended send time (when the schedule said to send, not when the send
 * happened) so that a late sender shows up as latency instead of hiding it (no coordinated
 * omission). Servers pass it through, some with its keys in another order: socket.io-server-java
 * writes it back from a hash map ({@code {"p":…,"s":…,"t":…}}), so it is read by key.
 *
 * <p>Times are System.nanoTime() of the generator, written relative to its start so that they
 * stay below 2^53 and survive JavaScript's doubles in the Socket.IO server.
 */
final class Payload {
    private static final String START = "{\"s\":";
    private static final String SEQ = "\"s\":";
    /** An hour before the class loaded: schedules that started a little earlier stay positive. */
    private static final long EPOCH = System.nanoTime() - 3_600_000_000_000L;

    private Payload() {
    }

    /** A payload of about {@code size} characters. */
    static String of(long seq, long intendedNanos, int size) {
        String head = START + seq + ",\"t\":" + (intendedNanos - EPOCH) + ",\"p\":\"";
        return head + "x".repeat(Math.max(0, size - head.length() - 2)) + "\"}";
    }

    /** Where a payload's sequence number is in a frame (no other frame has an {@code "s"} key), or -1. */
    static int find(String frame) {
        return frame.indexOf(SEQ);
    }

    /** The sequence number of the payload found at {@code at}. */
    static long seq(String frame, int at) {
        return Frames.number(frame, at + SEQ.length());
    }

    /** The intended send time of the payload found at {@code at}. */
    static long sentAt(String frame, int at) {
        return EPOCH + Frames.number(frame, frame.indexOf("\"t\":", frame.lastIndexOf('{', at)) + 4);
    }
}
