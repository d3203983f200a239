package dev.switchboard.adapter.redis;

/**
 * Redis stream entry ids ({@code <millis>-<sequence>}, e.g. {@code 1796473541406-0}), which are
 * the cluster's offsets.
 *
 * <pre>{@code
 * StreamIds.compare("1796473541406-1", "1796473541406-0"); // > 0
 * }</pre>
 */
final class StreamIds {
    /** Before every entry: the position of an empty log. */
    static final String NONE = "0-0";

    private StreamIds() {
    }

    /** Whether {@code id} has the form of an entry id (a client may send anything as its offset). */
    static boolean valid(String id) {
        return id != null && id.matches("\\d{1,19}-\\d{1,19}");
    }

    /** When Redis took the entry: the first part of its id. */
    static long millis(String id) {
        return Long.parseLong(id.substring(0, id.indexOf('-')));
    }

    static int compare(String a, String b) {
        int byMillis = Long.compare(millis(a), millis(b));
        return byMillis != 0 ? byMillis : Long.compare(sequence(a), sequence(b));
    }

    private static long sequence(String id) {
        return Long.parseLong(id.substring(id.indexOf('-') + 1));
    }
}
