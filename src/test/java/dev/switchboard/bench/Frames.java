package dev.switchboard.bench;

/**
 * Reading frames by position, not with a JSON parser: the generator's core must stay cheaper than
 * the servers it measures, the raw floor must not be a framework, and each side writes its frames
 * in one known shape. The raw floor's web application carries this class, so it depends on nothing.
 */
final class Frames {
    private Frames() {
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
