package dev.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keeps the benchmark harness from rotting: every scenario, a few clients, a fraction of a second
 * each, against Switchboard on the standalone server in its own process (no npm, no pinning).
 * It checks that the harness measures something sane, not how fast anything is.
 */
class BenchmarkSmokeTest {

    @Test
    void everyScenarioProducesFigures() throws Exception {
        BenchMain.Options options = new BenchMain.Options(List.of(Target.SWITCHBOARD),
                new LinkedHashSet<>(List.of("S1", "S2", "S3", "S4", "S5")), Scenarios.Sizes.smoke(), "smoke",
                Path.of("target", "bench-smoke"), false, false);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        List<Results> all = BenchMain.run(options, new PrintStream(log, true, StandardCharsets.UTF_8));
        Results r = all.get(0);
        String context = log.toString(StandardCharsets.UTF_8) + "\n" + Report.table(all);

        assertTrue(r.notes().stream().noneMatch(note -> note.contains("failed") || note.contains("could not start")), context);
        assertTrue(r.get(Metric.S1_HEAP_PER_CONN) > 0, context);
        assertTrue(r.get(Metric.S1_THREADS) > 0, context);
        assertTrue(Double.isFinite(r.get(Metric.S2_P99)), "acks came back: " + context);
        assertTrue(r.get(Metric.S3_ONE_DELIVERIES_PER_CPU) > 0, context);
        assertTrue(r.get(Metric.S3_MANY_DELIVERIES_PER_CPU) > 0, context);
        assertEquals(0, r.get(Metric.S3_ONE_LOSS), context);
        assertTrue(Double.isFinite(r.get(Metric.S4_P99)), context);
        int clients = Scenarios.Sizes.smoke().stormClients();
        assertEquals(clients, r.get(Metric.S5_RECOVERED), "every client recovers its session: " + context);
        assertEquals(0, r.get(Metric.S5_DUPLICATES), context);
        assertEquals(0, r.get(Metric.S5_MISSED), context);
        assertTrue(Report.table(all).contains("S5 duplicate deliveries"), context);
    }
}
