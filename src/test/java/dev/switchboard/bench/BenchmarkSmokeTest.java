package dev.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Keeps the benchmark harness from rotting: every scenario, a few clients, a fraction of a second
 * each, against Switchboard on the standalone server in its own process (no npm, no pinning).
 * It checks that the harness measures something sane, not how fast anything is.
 * {@code BenchmarkSmokeIT} does the same on Tomcat and Jetty. Two Switchboard nodes on a real
 * {@code redis-server} run the scenarios a cluster runs, one node killed in the storm.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class BenchmarkSmokeTest {

    @Test
    void everyScenarioProducesFigures() throws Exception {
        Smoke smoke = Smoke.run(List.of(Target.SWITCHBOARD), "bench-smoke");
        smoke.assertSwitchboard(smoke.results().get(0));
    }

    @Test
    void twoNodesOnRedisFanOutAndRecoverTheKilledNodesClients() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/redis-server")), "redis-server is not installed");
        Smoke smoke = Smoke.run(List.of(Target.SWITCHBOARD_REDIS2), "bench-smoke-redis");
        Results r = smoke.results().get(0);
        String context = smoke.context();
        assertTrue(r.notes().stream().noneMatch(note -> note.contains("failed") || note.contains("could not start")), context);
        assertTrue(r.get(Metric.S3_ONE_DELIVERIES_PER_CPU) > 0 && r.get(Metric.S3_MANY_DELIVERIES_PER_CPU) > 0, context);
        assertEquals(0, r.get(Metric.S3_ONE_LOSS), context);
        assertEquals(0, r.get(Metric.S3_MANY_LOSS), context);
        assertEquals(Scenarios.Sizes.smoke().stormClients() / 2, r.get(Metric.S5_DROPPED), "half the clients were on the killed node: " + context);
        assertEquals(r.get(Metric.S5_DROPPED), r.get(Metric.S5_RECOVERED), "each recovers on the other node: " + context);
        assertEquals(0, r.get(Metric.S5_MISSED), context);
        assertEquals(0, r.get(Metric.S5_DUPLICATES), context);
    }

    /** Every scenario at the smoke size on some targets, and what their figures must say. */
    record Smoke(List<Results> results, String context) {

        static Smoke run(List<Target> targets, String out) throws Exception {
            BenchMain.Options options = new BenchMain.Options(targets, BenchMain.ALL_SCENARIOS, BenchMain.ALL_SCENARIOS,
                    Scenarios.Sizes.smoke(), "smoke", Path.of("target", out), false, false);
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            List<Results> all = BenchMain.run(options, new PrintStream(log, true, StandardCharsets.UTF_8));
            return new Smoke(all, log.toString(StandardCharsets.UTF_8) + "\n" + Report.table(all));
        }

        /** What any target must show: it ran everything, answered acks, delivered every fan-out. */
        void assertCommon(Results r) {
            assertTrue(r.notes().stream().noneMatch(note -> note.contains("failed") || note.contains("could not start")),
                    r.target.title + ": " + context);
            assertTrue(r.get(Metric.S1_HEAP_PER_CONN) > 0, "the heap report works: " + context);
            assertTrue(r.get(Metric.S1_THREADS) > 0, context);
            assertTrue(Double.isFinite(r.get(Metric.S2_P99)), "acks came back: " + context);
            assertTrue(r.get(Metric.S3_ONE_DELIVERIES_PER_CPU) > 0, "the server's CPU time is counted: " + context);
            assertTrue(r.get(Metric.S3_MANY_DELIVERIES_PER_CPU) > 0, context);
            assertEquals(0, r.get(Metric.S3_ONE_LOSS), context);
            assertEquals(0, r.get(Metric.S3_MANY_LOSS), context);
            assertTrue(Double.isFinite(r.get(Metric.S4_P99)), context);
            assertTrue(Report.table(results).contains("S5 duplicate deliveries"), context);
        }

        /** Switchboard also recovers every session of the storm, with nothing missed or repeated. */
        void assertSwitchboard(Results r) {
            assertCommon(r);
            int clients = Scenarios.Sizes.smoke().stormClients();
            assertEquals(clients, r.get(Metric.S5_RECOVERED), "every client recovers its session: " + context);
            assertEquals(0, r.get(Metric.S5_DUPLICATES), context);
            assertEquals(0, r.get(Metric.S5_MISSED), context);
            // S6: joins answered and timed, every broadcast and notice delivered; how fast is the benchmark's business.
            assertTrue(Double.isFinite(r.get(Metric.S6_JOIN_P99)), context);
            assertEquals(0, r.get(Metric.S6_LOST), "S6: every broadcast and notice delivered: " + context);
            assertTrue(r.get(Metric.S6_FILES_AFTER) > 0 && r.get(Metric.S6_RSS_AFTER) > 0, context);
        }
    }
}
