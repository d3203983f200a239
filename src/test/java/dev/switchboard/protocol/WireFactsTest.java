package dev.switchboard.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The browser client carries the same wire facts as the Java side: it reads its constants from
 * {@code webapp/switchboard.js} as text, so a name or code changed on one side only fails here.
 */
class WireFactsTest {
    private static final Path BROWSER_CLIENT = Path.of("webapp", "switchboard.js");
    /**
     * Close codes that do not name a reason: 1000 is shared, 1006 never travels in a close frame,
     * 1011 is also what a failing container sends of its own accord, and 1013 also refuses a
     * connection over a cap.
     */
    private static final Set<Integer> UNNAMED_CLOSE_CODES = Set.of(1000, 1006, 1011, 1013);
    private static final Pattern QUOTED = Pattern.compile("'([^']*)'");
    private static final Pattern CODE_AND_TEXT = Pattern.compile("\\[(\\d+),\\s*'([^']*)'\\]");

    private static String script;

    @BeforeAll
    static void readTheBrowserClient() throws IOException {
        script = Files.readString(BROWSER_CLIENT);
    }

    @Test
    void reservedEventNamesAreTheSame() {
        assertEquals(new TreeSet<>(ReservedEvents.NAMES), quotedIn(constant("RESERVED_EVENTS")));
    }

    @Test
    void recoverableReasonsAreTheSame() {
        Set<String> recoverable = Arrays.stream(DisconnectReason.values()).filter(DisconnectReason::recoverable)
                .map(DisconnectReason::text).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(recoverable, quotedIn(constant("RECOVERABLE_REASONS")));
    }

    @Test
    void closeCodesMeanTheSameReasons() {
        Map<Integer, String> named = new TreeMap<>();
        for (DisconnectReason reason : DisconnectReason.values()) {
            if (!UNNAMED_CLOSE_CODES.contains(reason.closeCode())) {
                String before = named.put(reason.closeCode(), reason.text());
                assertEquals(null, before, "close code " + reason.closeCode() + " names two reasons");
            }
        }
        Map<Integer, String> browser = new TreeMap<>();
        Matcher entry = CODE_AND_TEXT.matcher(constant("CLOSE_REASONS"));
        while (entry.find()) {
            browser.put(Integer.parseInt(entry.group(1)), entry.group(2));
        }
        assertEquals(named, browser);
    }

    /** The initializer of {@code const name = ...;}, up to its semicolon. */
    private static String constant(String name) {
        Matcher declaration = Pattern.compile("const " + name + " = ([^;]*);").matcher(script);
        assertTrue(declaration.find(), "switchboard.js declares no constant " + name);
        return declaration.group(1);
    }

    private static Set<String> quotedIn(String text) {
        Set<String> strings = new TreeSet<>();
        Matcher quoted = QUOTED.matcher(text);
        while (quoted.find()) {
            strings.add(quoted.group(1));
        }
        return strings;
    }
}
