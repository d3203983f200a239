package dev.switchboard.testing;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), as a scraper applies
 * it: metric and label names by their grammar, label values with their escapes, values as
 * floats (NaN and ±Inf included), at most one HELP and one TYPE per family and each before its
 * samples, a family's samples together, no series twice, a final line feed. It fails with the
 * offending line.
 *
 * <pre>{@code
 * PrometheusText page = PrometheusText.parse(body);
 * double connections = page.value("switchboard_connections", Map.of());
 * }</pre>
 */
public final class PrometheusText {
    private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final Pattern COMMENT = Pattern.compile("# (HELP|TYPE) (" + NAME + ") ?(.*)");
    private static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(\\{.*})? (\\S+)( -?[0-9]+)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"(,|$)");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");
    private static final List<String> SUFFIXES = List.of("_total", "_created", "_bucket", "_count", "_sum", "_info");

    private record Series(String name, Map<String, String> labels) {
    }

    private final Map<String, String> help = new HashMap<>();
    private final Map<String, String> types = new HashMap<>();
    private final Map<Series, Double> values = new LinkedHashMap<>();

    private PrometheusText() {
    }

    /** Reads a whole exposition, failing with an {@link AssertionError} at the first rule broken. */
    public static PrometheusText parse(String text) {
        if (!text.endsWith("\n")) {
            throw new AssertionError("the exposition does not end with a line feed");
        }
        PrometheusText page = new PrometheusText();
        Set<String> finished = new HashSet<>();
        String current = null;
        for (String line : text.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            String family;
            if (line.startsWith("#")) {
                Matcher comment = COMMENT.matcher(line);
                if (!comment.matches()) {
                    continue;
                }
                family = comment.group(2);
                Map<String, String> target = comment.group(1).equals("HELP") ? page.help : page.types;
                check(target.put(family, comment.group(3)) == null, "a second " + comment.group(1) + " for " + family, line);
                check(!page.hasSamples(family), comment.group(1) + " after the samples of " + family, line);
                if (comment.group(1).equals("TYPE")) {
                    check(TYPES.contains(comment.group(3)), "unknown type", line);
                }
            } else {
                Matcher sample = SAMPLE.matcher(line);
                check(sample.matches(), "not a sample", line);
                family = page.familyOf(sample.group(1));
                Series series = new Series(sample.group(1), labels(sample.group(2), line));
                check(page.values.put(series, number(sample.group(3), line)) == null, "the same series twice", line);
            }
            if (!family.equals(current)) {
                check(finished.add(family), "the lines of " + family + " are not together", line);
                current = family;
            }
        }
        return page;
    }

    /** Whether a family of that name has a TYPE line. */
    public boolean hasFamily(String family) {
        return types.containsKey(family);
    }

    /** The help text of a family. */
    public String help(String family) {
        return help.getOrDefault(family, "");
    }

    /** The value of the sample with exactly these labels; fails when there is none. */
    public double value(String name, Map<String, String> labels) {
        Double value = values.get(new Series(name, labels));
        if (value == null) {
            throw new AssertionError("no sample " + name + labels + " among " + values.keySet());
        }
        return value;
    }

    private boolean hasSamples(String family) {
        return values.keySet().stream().anyMatch(series -> familyOf(series.name()).equals(family));
    }

    /** The family a sample belongs to: its own name where declared, else its name without a type's suffix. */
    private String familyOf(String sampleName) {
        if (types.containsKey(sampleName)) {
            return sampleName;
        }
        for (String suffix : SUFFIXES) {
            if (sampleName.endsWith(suffix) && types.containsKey(sampleName.substring(0, sampleName.length() - suffix.length()))) {
                return sampleName.substring(0, sampleName.length() - suffix.length());
            }
        }
        return sampleName;
    }

    private static Map<String, String> labels(String braces, String line) {
        Map<String, String> labels = new HashMap<>();
        if (braces == null) {
            return labels;
        }
        String inside = braces.substring(1, braces.length() - 1);
        Matcher label = LABEL.matcher(inside);
        int at = 0;
        while (at < inside.length()) {
            check(label.find(at) && label.start() == at, "a malformed label", line);
            String value = label.group(2).replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
            check(labels.put(label.group(1), value) == null, "a label twice", line);
            at = label.end();
        }
        return labels;
    }

    private static double number(String text, String line) {
        switch (text) {
            case "NaN" -> {
                return Double.NaN;
            }
            case "+Inf" -> {
                return Double.POSITIVE_INFINITY;
            }
            case "-Inf" -> {
                return Double.NEGATIVE_INFINITY;
            }
            default -> {
                try {
                    return Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    throw new AssertionError("not a value: " + line);
                }
            }
        }
    }

    private static void check(boolean holds, String rule, String line) {
        if (!holds) {
            throw new AssertionError(rule + ": " + line);
        }
    }
}
