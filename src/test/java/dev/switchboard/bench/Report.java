package dev.switchboard.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The table of raw figures, one column per target, and the table of ratios: Switchboard / each
 * Socket.IO peer, Switchboard / raw floor on the same container, and Switchboard of the write
 * floor (plain NIO, the ceiling), for each Switchboard target, and Switchboard on Redis /
 * socket.io on Redis with as many nodes; as Markdown.
 */
final class Report {
    private Report() {
    }

    static String table(List<Results> all) {
        StringBuilder out = new StringBuilder();
        out.append("| figure | unit |");
        all.forEach(r -> out.append(' ').append(r.target.title).append(" |"));
        out.append("\n|---|---|").append("---:|".repeat(all.size())).append('\n');
        for (Metric metric : Metric.values()) {
            if (all.stream().allMatch(r -> r.get(metric) == null)) {
                continue;
            }
            out.append("| ").append(metric.ratio ? "**" + metric.label + "**" : metric.label).append(" | ")
                    .append(metric.unit).append(" |");
            for (Results r : all) {
                out.append(' ').append(value(r, metric)).append(" |");
            }
            out.append('\n');
        }
        out.append("\n`-`: not run on that target; `!` marks a figure from an invalid run (see notes).\n");
        out.append(ratios(all));
        for (Results r : all) {
            if (!r.notes().isEmpty()) {
                out.append("\nNotes, ").append(r.target.title).append(":\n");
                r.notes().forEach(note -> out.append("- ").append(note).append('\n'));
            }
        }
        return out.toString();
    }

    /**
     * Switchboard's figure over each Socket.IO peer's, over the floor's on the same container and
     * over the write floor's, for each Switchboard target measured (on each container, and with each wire).
     */
    private static String ratios(List<Results> all) {
        List<Results> peers = all.stream().filter(r -> r.target.role == Target.Role.PEER).toList();
        Results writeFloor = find(all, Target.Role.WRITE_FLOOR, "plain NIO");
        List<String> headers = new ArrayList<>();
        List<Results[]> pairs = new ArrayList<>();
        for (Results switchboard : all) {
            if (switchboard.target.role != Target.Role.SWITCHBOARD) {
                continue;
            }
            String host = switchboard.target.host;
            for (Results peer : peers) {
                headers.add(switchboard.target.title + " / " + peer.target.title);
                pairs.add(new Results[] {switchboard, peer});
            }
            // The floors speak Switchboard's wire only.
            Results floor = find(all, Target.Role.FLOOR, host);
            if (floor != null && switchboard.target.wire == floor.target.wire) {
                headers.add("Switchboard / raw, " + host);
                pairs.add(new Results[] {switchboard, floor});
            }
            if (writeFloor != null && switchboard.target.wire == writeFloor.target.wire) {
                headers.add("Switchboard of the write floor, " + host);
                pairs.add(new Results[] {switchboard, writeFloor});
            }
        }
        // Clusters on Redis: Switchboard's over socket.io's with as many nodes.
        for (Results cluster : all) {
            for (Results other : all) {
                if (cluster.target.role == Target.Role.CLUSTER && other.target.role == Target.Role.CLUSTER_PEER
                        && cluster.target.nodes == other.target.nodes) {
                    headers.add(cluster.target.title + " / " + other.target.title);
                    pairs.add(new Results[] {cluster, other});
                }
            }
        }
        if (pairs.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder("\n| ratio |");
        headers.forEach(h -> out.append(' ').append(h).append(" |"));
        out.append("\n|---|").append("---:|".repeat(headers.size())).append('\n');
        for (Metric metric : Metric.values()) {
            if (!metric.ratio || pairs.stream().allMatch(p -> p[0].get(metric) == null)) {
                continue;
            }
            out.append("| ").append(metric.label).append(" |");
            pairs.forEach(p -> out.append(' ').append(ratio(p[0], p[1], metric)).append(" |"));
            out.append('\n');
        }
        out.append("\nRatios are Switchboard's figure divided by the other's: above 1 is better for throughput and knee");
        out.append("\nrate, below 1 is better for p99 and heap.\n");
        return out.toString();
    }

    private static Results find(List<Results> all, Target.Role role, String host) {
        return all.stream().filter(r -> r.target.role == role && r.target.host.equals(host)).findFirst().orElse(null);
    }

    private static String value(Results r, Metric metric) {
        Double v = r.get(metric);
        if (v == null) {
            return "-";
        }
        if (v.isNaN()) {
            return "n/a";
        }
        return format(v) + (r.isInvalid(metric) ? " !" : "");
    }

    private static String ratio(Results a, Results b, Metric metric) {
        Double x = a.get(metric);
        Double y = b.get(metric);
        if (x == null || y == null) {
            return "-";
        }
        if (x.isNaN() || y.isNaN() || y == 0) {
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
        // Below 0.1 (a context switch per delivery of a server that rarely blocks), two decimals would say 0.
        return String.format(Locale.ROOT, abs >= 10 ? "%.1f" : abs >= 0.1 ? "%.2f" : "%.4f", v);
    }
}
