package dev.switchboard.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The harness's smoke run on the container targets: Switchboard and the raw floor as web
 * applications in the Tomcat 11 and Jetty 12 distributions (which the build unpacks before the
 * integration tests), every scenario at the smoke size. It checks that the web applications are
 * laid out and deployed, that the container process's CPU time and the heap report are read, and
 * that the floor stays correct on Tomcat, which refuses a second send while one is in flight.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class BenchmarkSmokeIT {

    @Test
    void containerTargetsProduceFigures() throws Exception {
        List<Target> targets = List.of(Target.SWITCHBOARD_TOMCAT, Target.RAW_TOMCAT, Target.SWITCHBOARD_JETTY, Target.RAW_JETTY);
        BenchmarkSmokeTest.Smoke smoke = BenchmarkSmokeTest.Smoke.run(targets, "bench-smoke-it");
        assertEquals(targets, smoke.results().stream().map(r -> r.target).toList());
        for (Results r : smoke.results()) {
            if (r.target.role == Target.Role.SWITCHBOARD) {
                smoke.assertSwitchboard(r);
            } else {
                smoke.assertCommon(r);
                assertEquals(0, r.get(Metric.S5_DUPLICATES), "the floor recovers nothing, and repeats nothing: " + smoke.context());
            }
        }
    }
}
