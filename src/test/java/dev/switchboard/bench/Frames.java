package dev.switchboard.bench;

/**
 * Reading frames by position, not with a JSON parser: the generator's core must stay cheaper than
 * the servers it measures, the raw floor must not be a framework, and each side writes its frames
 * in one known shape. The raw floor's web application carries this class, so it depends on nothing.
 */
final class Frames {
    private Frames() {
    }

    /**
     * A client's event as Switchboard's wire writes it, {@code {"type":"event","event":NAME,"args":[ARGS],"ack":N}}.
     *
     * @param args the arguments' JSON text, without the brackets
     * @param ack  the ack id, 0 when none is asked for
     */
    record Event(String name, String args, long ack) {
        /** The event in {@code frame}, or null when the frame is no event. */
        static Event of(String frame) {
            if (!frame.startsWith("{\"type\":\"event\"")) {
                return null;
            }
            int ackAt = frame.lastIndexOf(",\"ack\":");
            long ack = ackAt < 0 ? 0 : number(frame, ackAt + 7);
            String args = frame.substring(frame.indexOf("\"args\":[") + 8, (ackAt < 0 ? frame.length() - 1 : ackAt) - 1);
            return new Event(string(frame, "\"event\":\""), args, ack);
        }
    }

    /** The JSON string value that follows {@code key} (which ends with the opening quote), or null. */
    static String string(String frame, String key) {
        int start = frame.indexOf(key);
        if (start < 0) {
            return null;
        }
        start += key.length();
        return frame.substring(start, frame.indexOf('"', start));
    }

    /** The non-negative whole number written at {@code from}. */
    static long number(String text, int from) {
        long value = 0;
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                break;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }
}
