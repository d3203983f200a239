package dev.switchboard.bench;

import java.util.List;
import java.util.Locale;

/**
 * The table of raw figures, one column per target, and the ratios Switchboard / socket.io and
 * Switchboard / raw floor, as Markdown.
 */
final class Report {
    private Report() {
    }

    static String table(List<Results> all) {
        Results switchboard = find(all, Target.SWITCHBOARD);
        Results raw = find(all, Target.RAW);
        Results socketio = find(all, Target.SOCKETIO);
        StringBuilder out = new StringBuilder();
        out.append("| figure | unit |");
        all.forEach(r -> out.append(' ').append(r.target.title).append(" |"));
        boolean vsSocketio = switchboard != null && socketio != null;
        boolean vsRaw = switchboard != null && raw != null;
        if (vsSocketio) {
            out.append(" Switchboard / socket.io |");
        }
        if (vsRaw) {
            out.append(" Switchboard / raw |");
        }
        out.append("\n|---|---|");
        out.append("---:|".repeat(all.size() + (vsSocketio ? 1 : 0) + (vsRaw ? 1 : 0)));
        out.append('\n');
        for (Metric metric : Metric.values()) {
            if (all.stream().allMatch(r -> r.get(metric) == null)) {
                continue;
            }
            out.append("| ").append(metric.ratio ? "**" + metric.label + "**" : metric.label).append(" | ")
                    .append(metric.unit).append(" |");
            for (Results r : all) {
                out.append(' ').append(value(r, metric)).append(" |");
            }
            if (vsSocketio) {
                out.append(' ').append(metric.ratio ? ratio(switchboard, socketio, metric) : "").append(" |");
            }
            if (vsRaw) {
                out.append(' ').append(metric.ratio ? ratio(switchboard, raw, metric) : "").append(" |");
            }
            out.append('\n');
        }
        out.append("\nRatios are Switchboard's figure divided by the other's: above 1 is better for throughput, knee");
        out.append("\nrate and below 1 is better for p99 and heap. `!` marks a figure from an invalid run (see notes).\n");
        for (Results r : all) {
            if (!r.notes().isEmpty()) {
                out.append("\nNotes, ").append(r.target.title).append(":\n");
                r.notes().forEach(note -> out.append("- ").append(note).append('\n'));
            }
        }
        return out.toString();
    }

    private static Results find(List<Results> all, Target target) {
        return all.stream().filter(r -> r.target == target).findFirst().orElse(null);
    }

    private static String value(Results r, Metric metric) {
        Double v = r.get(metric);
        if (v == null || v.isNaN()) {
            return "n/a";
        }
        return format(v) + (r.isInvalid(metric) ? " !" : "");
    }

    private static String ratio(Results a, Results b, Metric metric) {
        Double x = a.get(metric);
        Double y = b.get(metric);
        if (x == null || y == null || x.isNaN() || y.isNaN() || y == 0) {
            return "n/a";
        }
        boolean invalid = a.isInvalid(metric) || b.isInvalid(metric);
        return String.format(Locale.ROOT, "%.2fx", x / y) + (invalid ? " !" : "");
    }

    static String format(double v) {
        double abs = Math.abs(v);
        if (abs >= 1000 || v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%,.0f", v).replace(',', ' ');
        }
        return String.format(Locale.ROOT, abs >= 10 ? "%.1f" : "%.2f", v);
    }
}
