package dev.switchboard.protocol;

/**
 * A strict, allocation-light JSON scanner over one frame. It validates values without building
 * them, so a hostile frame (deep nesting, a huge array) costs time linear in its length and no
 * memory beyond the frame itself.
 *
 * <p>Why not a JSON parser: the server relays each argument as the exact text it arrived as
 * ({@link RawJson}), so an integer past 2^53, a decimal's digits and escapes as written reach the
 * other clients unchanged, where a parser would hand back values to be written again, differently.
 * In one pass and without building a tree, the scanner checks that the frame is JSON, enforces the
 * depth bound and marks where each value starts and ends; JSON-B sees an argument only when the
 * application asks for it as a Java type. It accepts what RFC 8259 accepts (its test checks it
 * against Parsson), lone surrogate escapes included, except nesting deeper than {@link #MAX_DEPTH}.
 *
 * <p>Not thread-safe: one instance scans one frame on one thread.
 */
final class JsonScanner {
    /** Deeper JSON is refused: it is never needed for events and guards JSON-B's recursion. */
    static final int MAX_DEPTH = 32;

    private final String text;
    private int pos;

    JsonScanner(String text) {
        this.text = text;
    }

    /** Checks that {@code json} is exactly one JSON value, with optional white space around it. */
    static void validate(String json) throws ProtocolException {
        JsonScanner scanner = new JsonScanner(json);
        scanner.skipWhitespace();
        scanner.skipValue(0);
        scanner.expectEnd();
    }

    int position() {
        return pos;
    }

    String slice(int start, int end) {
        return text.substring(start, end);
    }

    void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    boolean consume(char expected) {
        skipWhitespace();
        if (pos < text.length() && text.charAt(pos) == expected) {
            pos++;
            return true;
        }
        return false;
    }

    void expect(char expected) throws ProtocolException {
        if (!consume(expected)) {
            throw error("expected '" + expected + "'");
        }
    }

    void expectEnd() throws ProtocolException {
        skipWhitespace();
        if (pos != text.length()) {
            throw error("unexpected text after the JSON value");
        }
    }

    char peek() throws ProtocolException {
        skipWhitespace();
        if (pos >= text.length()) {
            throw error("unexpected end of frame");
        }
        return text.charAt(pos);
    }

    /** Skips one value of any type; {@code depth} is the nesting level it stands at. */
    void skipValue(int depth) throws ProtocolException {
        char c = peek();
        switch (c) {
            case '{' -> skipObject(depth + 1);
            case '[' -> skipArray(depth + 1);
            case '"' -> skipString();
            case 't' -> skipLiteral("true");
            case 'f' -> skipLiteral("false");
            case 'n' -> skipLiteral("null");
            default -> skipNumber();
        }
    }

    /** Reads one value at nesting level {@code depth} as its exact text. */
    RawJson readValue(int depth) throws ProtocolException {
        skipWhitespace();
        int start = pos;
        skipValue(depth);
        return RawJson.trusted(slice(start, pos));
    }

    private void checkDepth(int depth) throws ProtocolException {
        if (depth > MAX_DEPTH) {
            throw error("JSON nested deeper than " + MAX_DEPTH + " levels");
        }
    }

    private void skipObject(int depth) throws ProtocolException {
        checkDepth(depth);
        pos++;
        if (consume('}')) {
            return;
        }
        do {
            if (peek() != '"') {
                throw error("expected a string key");
            }
            skipString();
            expect(':');
            skipValue(depth);
        } while (consume(','));
        expect('}');
    }

    private void skipArray(int depth) throws ProtocolException {
        checkDepth(depth);
        pos++;
        if (consume(']')) {
            return;
        }
        do {
            skipValue(depth);
        } while (consume(','));
        expect(']');
    }

    private void skipLiteral(String literal) throws ProtocolException {
        if (!text.startsWith(literal, pos)) {
            throw error("unknown literal");
        }
        pos += literal.length();
    }

    private void skipNumber() throws ProtocolException {
        int start = pos;
        if (pos < text.length() && text.charAt(pos) == '-') {
            pos++;
        }
        if (pos < text.length() && text.charAt(pos) == '0') {
            pos++;
        } else if (!skipDigits()) {
            throw error(start == pos ? "unexpected character" : "malformed number");
        }
        if (pos < text.length() && text.charAt(pos) == '.') {
            pos++;
            if (!skipDigits()) {
                throw error("malformed number");
            }
        }
        if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
            pos++;
            if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) {
                pos++;
            }
            if (!skipDigits()) {
                throw error("malformed number");
            }
        }
    }

    private boolean skipDigits() {
        int start = pos;
        while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
            pos++;
        }
        return pos > start;
    }

    /** Reads a non-negative integer value that fits a long. */
    long readLong() throws ProtocolException {
        peek();
        int start = pos;
        skipNumber();
        try {
            return Long.parseLong(text, start, pos, 10);
        } catch (NumberFormatException e) {
            throw error("expected a whole number");
        }
    }

    private void skipString() throws ProtocolException {
        pos++;
        while (pos < text.length()) {
            char c = text.charAt(pos++);
            if (c == '"') {
                return;
            }
            if (c == '\\') {
                skipEscape();
            } else if (c < 0x20) {
                throw error("control character in string");
            }
        }
        throw error("unterminated string");
    }

    private void skipEscape() throws ProtocolException {
        if (pos >= text.length()) {
            throw error("unterminated string");
        }
        char c = text.charAt(pos++);
        switch (c) {
            case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> { }
            case 'u' -> readHex4();
            default -> throw error("bad escape in string");
        }
    }

    private char readHex4() throws ProtocolException {
        if (pos + 4 > text.length()) {
            throw error("bad unicode escape");
        }
        int value = 0;
        for (int i = 0; i < 4; i++) {
            char c = text.charAt(pos++);
            // Character.digit also takes non-ASCII digits such as U+FF10 (fullwidth 0); JSON does not.
            int digit = c < 0x80 ? Character.digit(c, 16) : -1;
            if (digit < 0) {
                throw error("bad unicode escape");
            }
            value = value * 16 + digit;
        }
        return (char) value;
    }

    /** Reads a string value and returns it unescaped. */
    String readString() throws ProtocolException {
        if (peek() != '"') {
            throw error("expected a string");
        }
        int start = ++pos;
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '"') {
                return text.substring(start, pos++);
            }
            if (c == '\\' || c < 0x20) {
                pos = start;
                return readEscapedString();
            }
            pos++;
        }
        throw error("unterminated string");
    }

    private String readEscapedString() throws ProtocolException {
        StringBuilder out = new StringBuilder();
        while (pos < text.length()) {
            char c = text.charAt(pos++);
            if (c == '"') {
                return out.toString();
            }
            if (c < 0x20) {
                throw error("control character in string");
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (pos >= text.length()) {
                break;
            }
            char e = text.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> out.append(e);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> out.append(readHex4());
                default -> throw error("bad escape in string");
            }
        }
        throw error("unterminated string");
    }

    ProtocolException error(String what) {
        return ProtocolException.badPacket(what + " at character " + pos);
    }
}
