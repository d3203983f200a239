package dev.switchboard.bench;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The figures of one target, and what the reader must know about them (invalid runs, errors). */
final class Results {
    final Target target;
    private final Map<Metric, Double> values = new EnumMap<>(Metric.class);
    private final Set<Metric> invalid = EnumSet.noneOf(Metric.class);
    private final List<String> notes = new ArrayList<>();
    String banner = "";

    Results(Target target) {
        this.target = target;
    }

    void put(Metric metric, double value) {
        values.put(metric, value);
    }

    Double get(Metric metric) {
        return values.get(metric);
    }

    /** Marks figures that a saturated or late generator produced: they say nothing about the server. */
    void invalid(String why, Metric... metrics) {
        invalid.addAll(List.of(metrics));
        note("INVALID " + why);
    }

    boolean isInvalid(Metric metric) {
        return invalid.contains(metric);
    }

    void note(String note) {
        notes.add(note);
    }

    List<String> notes() {
        return notes;
    }
}
