package dev.switchboard.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import jakarta.json.Json;
import jakarta.json.stream.JsonParser;
import jakarta.json.stream.JsonParserFactory;
import jakarta.json.stream.JsonParsingException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class JsonScannerTest {
    /** Fixed so that a failure reproduces; {@code -DjsonScannerTest.seed=N} explores other corpora. */
    private static final long SEED = Long.getLong("jsonScannerTest.seed", 20_261_205L);
    private static final JsonParserFactory PARSSON = Json.createParserFactory(Map.of());

    static Stream<String> validDocuments() {
        return Stream.of(
                "null", "true", "false",
                "0", "-0", "7", "-12", "1.5", "-0.25", "1e5", "1E+5", "1e-5", "2.5E-3", "0e0", "1e400",
                "12345678901234567890", "9007199254740993", "-9223372036854775809",
                "\"\"", "\"plain\"", "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\"\\u00e9\\u00E9\"", "\"é漢\u007f\"",
                "\"\\ud83d\\ude00\"", "\"😀\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\ud800\"",
                "[]", "[ ]", "{}", "{ }", "[1,\"a\",true,false,null,{},[]]",
                "{\"a\":1,\"b\":[{\"c\":null}],\"\":\"\"}", "{\"a\":1,\"a\":2}",
                " \t\n\r1 \t\n\r", "[ 1 , 2 ]", "{ \"a\" : 1 , \"b\" : 2 }");
    }

    /** Invalid documents, each with the reason the scanner gives. */
    static Stream<Arguments> invalidDocuments() {
        return Stream.of(
                arguments("", "unexpected end of frame"),
                arguments(" \n", "unexpected end of frame"),
                arguments("[", "unexpected end of frame"),
                arguments("{\"a\":", "unexpected end of frame"),
                arguments("01", "unexpected text after"),
                arguments("-01", "unexpected text after"),
                arguments("0x10", "unexpected text after"),
                arguments("1 2", "unexpected text after"),
                arguments("{} {}", "unexpected text after"),
                arguments("[1]x", "unexpected text after"),
                arguments("1\u0000", "unexpected text after"),
                arguments("-", "malformed number"),
                arguments("--1", "malformed number"),
                arguments("-a", "malformed number"),
                arguments("1.", "malformed number"),
                arguments("1.e5", "malformed number"),
                arguments("1e", "malformed number"),
                arguments("1e+", "malformed number"),
                arguments(".5", "unexpected character"),
                arguments("+1", "unexpected character"),
                arguments("Infinity", "unexpected character"),
                arguments("NaN", "unexpected character"),
                arguments("True", "unexpected character"),
                arguments("'a'", "unexpected character"),
                arguments("]", "unexpected character"),
                arguments("[1,]", "unexpected character"),
                arguments("[1,,2]", "unexpected character"),
                arguments("\ufeff1", "unexpected character"),
                arguments("\u000b1", "unexpected character"),
                arguments("\u00a01", "unexpected character"),
                arguments("tru", "unknown literal"),
                arguments("nul", "unknown literal"),
                arguments("fals", "unknown literal"),
                arguments("[1 2]", "expected ']'"),
                arguments("{\"a\"}", "expected ':'"),
                arguments("{\"a\" 1}", "expected ':'"),
                arguments("{\"a\":1 \"b\":2}", "expected '}'"),
                arguments("{\"a\":1,}", "expected a string key"),
                arguments("{1:2}", "expected a string key"),
                arguments("{,}", "expected a string key"),
                arguments("\"abc", "unterminated string"),
                arguments("\"abc\\", "unterminated string"),
                arguments("\"\\x\"", "bad escape"),
                arguments("\"\\U00e9\"", "bad escape"),
                arguments("\"\\u12\"", "bad unicode escape"),
                arguments("\"\\u12", "bad unicode escape"),
                arguments("\"\\u00g9\"", "bad unicode escape"),
                arguments("\"\\u０000\"", "bad unicode escape"),
                arguments("\"\\u00Ｅ9\"", "bad unicode escape"),
                arguments("\"a\u0001\"", "control character"),
                arguments("\"\u0000\"", "control character"),
                arguments("\"\t\"", "control character"),
                arguments("\"\n\"", "control character"),
                arguments("\"\u001f\"", "control character"));
    }

    @ParameterizedTest
    @MethodSource("validDocuments")
    void acceptsValidDocumentsRelayingTheirValueExactly(String json) {
        assertEquals(json.strip(), relayed(json));
    }

    @ParameterizedTest
    @MethodSource("invalidDocuments")
    void refusesInvalidDocumentsSayingWhy(String json, String reason) {
        ProtocolException refused = assertThrows(ProtocolException.class, () -> JsonScanner.validate(json));
        assertEquals(ProtocolException.BAD_PACKET, refused.code());
        assertTrue(refused.getMessage().contains(reason), refused.getMessage());
    }

    static Stream<Arguments> stringsAndTheirValues() {
        return Stream.of(
                arguments("\"plain\"", "plain"),
                arguments("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t"),
                arguments("\"caf\\u00e9 caf\\u00C9\"", "café cafÉ"),
                arguments("\"é漢\"", "é漢"),
                arguments("\"\\ud83d\\ude00\"", "😀"),
                arguments("\"\\ud83d\"", "\ud83d"),
                arguments("\"\\ude00\\ud83d\"", "\ude00\ud83d"),
                arguments("  \"a\\nb\"", "a\nb"));
    }

    /** Escapes decode to UTF-16 units, so a lone surrogate is kept as it was sent: RFC 8259 allows it. */
    @ParameterizedTest
    @MethodSource("stringsAndTheirValues")
    void readsStringsUnescaped(String json, String value) throws ProtocolException {
        JsonScanner scanner = new JsonScanner(json);
        assertEquals(value, scanner.readString());
        assertEquals(json.length(), scanner.position());
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"a\u0001\"", "\"a\\u", "\"\\u０000\"", "\"a\\q\"", "\"abc", "\"\\u0000"})
    void readStringRefusesWhatValidateRefuses(String json) {
        assertThrows(ProtocolException.class, () -> new JsonScanner(json).readString());
    }

    @Test
    void readsWholeNumbersThatFitALong() throws ProtocolException {
        assertEquals(9007199254740993L, new JsonScanner(" 9007199254740993").readLong());
        assertEquals(Long.MAX_VALUE, new JsonScanner("9223372036854775807").readLong());
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.5", "1e3", "9223372036854775808", "\"1\""})
    void readLongRefusesAnythingButAWholeNumberThatFits(String json) {
        assertThrows(ProtocolException.class, () -> new JsonScanner(json).readLong());
    }

    /** The scanner hands out the exact text of each value, so nothing is re-encoded when relayed. */
    @Test
    void relaysTheExactTextOfEachValueInAnArray() throws ProtocolException {
        JsonScanner scanner = new JsonScanner("[ 1e400 ,\n{\"k\" : \"\\u00e9\"}\t, 12345678901234567890 ]");
        scanner.expect('[');
        List<String> values = new ArrayList<>();
        do {
            scanner.skipWhitespace();
            int start = scanner.position();
            scanner.skipValue(1);
            values.add(scanner.slice(start, scanner.position()));
        } while (scanner.consume(','));
        scanner.expect(']');
        scanner.expectEnd();
        assertEquals(List.of("1e400", "{\"k\" : \"\\u00e9\"}", "12345678901234567890"), values);
    }

    @ParameterizedTest
    @ValueSource(strings = {"[", "{\"k\":"})
    void nestingIsBoundedAtExactly32Levels(String opening) {
        assertEquals(nested(opening, JsonScanner.MAX_DEPTH), relayed(nested(opening, JsonScanner.MAX_DEPTH)));
        ProtocolException refused = assertThrows(ProtocolException.class,
                () -> JsonScanner.validate(nested(opening, JsonScanner.MAX_DEPTH + 1)));
        assertTrue(refused.getMessage().contains("nested deeper than 32"), refused.getMessage());
    }

    /** Refused at level 33 without recursing further, so a huge hostile frame costs no stack. */
    @Test
    void deepNestingIsRefusedWithoutOverflowingTheStack() {
        assertThrows(ProtocolException.class, () -> JsonScanner.validate("[".repeat(1_000_000)));
    }

    /**
     * The one deliberate difference from Parsson: it nests up to 1000 levels, the scanner 32, so
     * depth is left out of the differential corpus and checked here.
     */
    @Test
    void parssonAcceptsNestingThatTheScannerRefuses() {
        String tooDeep = nested("[", JsonScanner.MAX_DEPTH + 1);
        assertTrue(parssonAccepts(tooDeep));
        assertThrows(ProtocolException.class, () -> JsonScanner.validate(tooDeep));
    }

    /**
     * Scanner and Parsson agree on every document of a corpus: the cases above, random valid
     * documents and random mutations of them. Where both accept, the scanner relays the exact text.
     */
    @Test
    void agreesWithParssonOnValidAndMutatedDocuments() {
        System.out.println("JsonScannerTest corpus seed " + SEED + " (-DjsonScannerTest.seed=" + SEED + ")");
        assertTrue(PARSSON.getClass().getName().startsWith("org.eclipse.parsson."), PARSSON.getClass().getName());
        List<String> corpus = corpus(new Random(SEED));
        List<String> disagreements = new ArrayList<>();
        int valid = 0;
        for (String json : corpus) {
            boolean parssonAccepts = parssonAccepts(json);
            String relayed = relayed(json);
            if (parssonAccepts) {
                valid++;
            }
            if (parssonAccepts ? !json.strip().equals(relayed) : relayed != null) {
                disagreements.add(quoted(json) + (parssonAccepts ? " (Parsson accepts) relayed as " + quoted(relayed)
                        : " (Parsson refuses) accepted by the scanner"));
            }
        }
        assertEquals(List.of(), disagreements.subList(0, Math.min(10, disagreements.size())),
                disagreements.size() + " disagreements with seed " + SEED);
        int invalid = corpus.size() - valid;
        assertTrue(valid > 1000 && invalid > 1000, valid + " valid and " + invalid + " invalid documents");
    }

    private static List<String> corpus(Random random) {
        List<String> corpus = new ArrayList<>(validDocuments().toList());
        invalidDocuments().map(arguments -> (String) arguments.get()[0]).forEach(corpus::add);
        RandomJson generator = new RandomJson(random);
        for (int i = 0; i < 600; i++) {
            String json = generator.document();
            corpus.add(json);
            for (int m = 0; m < 5; m++) {
                corpus.add(generator.mutate(json));
            }
        }
        return corpus;
    }

    /** What the scanner relays of a document: the text of its one value, or null if it refuses it. */
    private static String relayed(String json) {
        JsonScanner scanner = new JsonScanner(json);
        try {
            scanner.skipWhitespace();
            int start = scanner.position();
            scanner.skipValue(0);
            int end = scanner.position();
            scanner.expectEnd();
            return scanner.slice(start, end);
        } catch (ProtocolException e) {
            return null;
        }
    }

    private static boolean parssonAccepts(String json) {
        try (JsonParser parser = PARSSON.createParser(new StringReader(json))) {
            while (parser.hasNext()) {
                parser.next();
            }
            return true;
        } catch (JsonParsingException e) {
            return false;
        }
    }

    private static String nested(String opening, int levels) {
        String closing = opening.startsWith("[") ? "]" : "}";
        return opening.repeat(levels) + "0" + closing.repeat(levels);
    }

    private static String quoted(String text) {
        StringBuilder out = new StringBuilder();
        JsonMapper.quote(text, out);
        return out.toString();
    }

    /** Random valid JSON documents (at most 6 levels deep) and random single-character mutations of them. */
    private static final class RandomJson {
        private static final String[] ESCAPES = {"\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
                "\\u00e9", "\\u00E9", "\\ud83d\\ude00", "\\udc00", "\\uFFFF"};
        private static final String TEXT = "az AZ09é漢😀\u007f\ud800";
        private static final String INSERTED = "{}[]:,\"\\ \t\n\r0123456789-+.eEtrufalsn/x"
                + "\u0000\u0001\u001f\u000b\u00a0\ufeff\u00e9\uff10\uff21\ud800";
        private final Random random;

        RandomJson(Random random) {
            this.random = random;
        }

        String document() {
            return whitespace() + value(0) + whitespace();
        }

        String mutate(String json) {
            return switch (random.nextInt(3)) {
                case 0 -> {
                    int at = random.nextInt(json.length());
                    yield json.substring(0, at) + json.substring(at + 1);
                }
                case 1 -> {
                    int at = random.nextInt(json.length() + 1);
                    yield json.substring(0, at) + INSERTED.charAt(random.nextInt(INSERTED.length())) + json.substring(at);
                }
                default -> {
                    int at = random.nextInt(json.length());
                    char flipped = (char) (json.charAt(at) ^ 1 << random.nextInt(8));
                    yield json.substring(0, at) + flipped + json.substring(at + 1);
                }
            };
        }

        private String value(int depth) {
            return switch (random.nextInt(depth < 6 ? 5 : 3)) {
                case 0 -> string();
                case 1 -> number();
                case 2 -> List.of("true", "false", "null").get(random.nextInt(3));
                case 3 -> container('[', ']', () -> value(depth + 1));
                default -> container('{', '}', () -> string() + whitespace() + ':' + whitespace() + value(depth + 1));
            };
        }

        private String container(char open, char close, Supplier<String> member) {
            StringBuilder out = new StringBuilder().append(open).append(whitespace());
            int size = random.nextInt(4);
            for (int i = 0; i < size; i++) {
                out.append(i > 0 ? "," + whitespace() : "").append(member.get()).append(whitespace());
            }
            return out.append(close).toString();
        }

        private String string() {
            StringBuilder out = new StringBuilder("\"");
            int length = random.nextInt(6);
            for (int i = 0; i < length; i++) {
                if (random.nextInt(3) == 0) {
                    out.append(ESCAPES[random.nextInt(ESCAPES.length)]);
                } else {
                    out.append(TEXT.charAt(random.nextInt(TEXT.length())));
                }
            }
            return out.append('"').toString();
        }

        private String number() {
            StringBuilder out = new StringBuilder(random.nextBoolean() ? "-" : "");
            out.append(random.nextInt(4) == 0 ? "0" : (1 + random.nextInt(9)) + digits(25));
            if (random.nextInt(3) == 0) {
                out.append('.').append(random.nextInt(10)).append(digits(5));
            }
            if (random.nextInt(3) == 0) {
                out.append("eE".charAt(random.nextInt(2))).append(List.of("", "+", "-").get(random.nextInt(3)))
                        .append(random.nextInt(10)).append(digits(3));
            }
            return out.toString();
        }

        private String digits(int most) {
            StringBuilder out = new StringBuilder();
            for (int i = random.nextInt(most + 1); i > 0; i--) {
                out.append(random.nextInt(10));
            }
            return out.toString();
        }

        private String whitespace() {
            return random.nextInt(3) == 0 ? String.valueOf(" \t\n\r".charAt(random.nextInt(4))) : "";
        }
    }
}
