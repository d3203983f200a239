package dev.switchboard.adapter.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.switchboard.demo.DashboardFeed;
import dev.switchboard.http.HttpApiSettings;
import dev.switchboard.testing.ApiClient;
import dev.switchboard.testing.Await;
import dev.switchboard.testing.PrometheusText;
import dev.switchboard.testing.RawClient;
import dev.switchboard.testing.RedisServer;
import jakarta.json.JsonObject;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A node's {@code /metrics} shows its cluster, scraped over real HTTP from a node of two on a real
 * {@code redis-server}: the node count, the link to Redis, publish latency that moves with emits;
 * with Redis frozen the link goes down and failed emits, timed-out queries and refused
 * connections count; once Redis is back the link is up again and emits are timed again. The
 * demo's dashboard, open on that node, shows the same figures, the outage included.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ClusterMetricsTest {
    private static final String KEY = "metrics-key";
    private static final Map<String, String> NO_LABELS = Map.of();

    @Test
    void metricsFollowTheClusterThroughARedisFreeze() throws Exception {
        try (RedisServer redis = RedisServer.start();
             ClusterNode a = ClusterNode.start(ClusterNode.settings(redis.uri(), "metrics"),
                     HttpApiSettings.off().withKeys(List.of(KEY)).withMetrics(true));
             ClusterNode b = ClusterNode.start(ClusterNode.settings(redis.uri(), "metrics"));
             Timer timer = new Timer();
             RawClient dashboard = dashboardOn(a, timer)) {
            ApiClient api = new ApiClient(URI.create("http://127.0.0.1:" + a.server().port()));
            Await.until("node A counts two nodes", () -> scrape(api).value("switchboard_cluster_nodes", NO_LABELS) == 2);
            JsonObject shown = clusterShown(dashboard, cluster -> cluster.getInt("nodes") == 2);
            assertTrue(shown.getBoolean("clustered") && shown.getBoolean("linkUp"), shown.toString());
            PrometheusText before = scrape(api);
            for (String family : List.of("switchboard_cluster_nodes", "switchboard_cluster_link_up",
                    "switchboard_cluster_fenced", "switchboard_cluster_fencings_total",
                    "switchboard_cluster_publish_latency_seconds", "switchboard_cluster_failed_emits_total",
                    "switchboard_cluster_timed_out_queries_total", "switchboard_cluster_refused_connections_total")) {
                assertTrue(before.hasFamily(family), family + " missing");
                assertFalse(before.help(family).isBlank(), family + " has no help");
            }
            assertEquals(1, before.value("switchboard_cluster_link_up", NO_LABELS));
            assertEquals(0, before.value("switchboard_cluster_fenced", NO_LABELS));
            double timed = before.value("switchboard_cluster_publish_latency_seconds_count", NO_LABELS);
            for (int i = 0; i < 3; i++) {
                a.switchboard().root().emit("tick", i);
            }
            Await.until("three more emits timed", () -> latencyCount(scrape(api)) >= timed + 3);
            PrometheusText timedThree = scrape(api);
            assertTrue(timedThree.value("switchboard_cluster_publish_latency_seconds_sum", NO_LABELS) > 0);
            assertEquals(latencyCount(timedThree), timedThree.value("switchboard_cluster_publish_latency_seconds_bucket",
                    Map.of("le", "+Inf")), "every emit timed is in a bucket");
            shown = clusterShown(dashboard, cluster -> cluster.getJsonNumber("publishesPerSecond").longValue() > 0);
            assertTrue(shown.getJsonNumber("publishMillis").doubleValue() > 0, shown.toString());
            assertTrue(shown.getJsonNumber("publishP99Millis").doubleValue() != 0, shown.toString());

            redis.signal("STOP");
            assertThrows(ClusterException.class, () -> a.switchboard().root().emit("lost"));
            CompletionException query = assertThrows(CompletionException.class,
                    () -> a.switchboard().root().fetchSockets().join());
            assertTrue(query.getCause() instanceof ClusterException, query.toString());
            Await.until("the link shows down", () -> scrape(api).value("switchboard_cluster_link_up", NO_LABELS) == 0);
            try (RawClient refused = a.server().raw()) {
                assertEquals(1013, refused.awaitClose(), "new connections: try again later");
            }
            // The heartbeat may notice before the emit fails: wait for a second that saw both.
            shown = clusterShown(dashboard, cluster -> !cluster.getBoolean("linkUp")
                    && cluster.getJsonNumber("failedEmits").longValue() >= 1);
            PrometheusText down = scrape(api);
            assertTrue(shown.getJsonNumber("failedEmits").longValue()
                    <= down.value("switchboard_cluster_failed_emits_total", NO_LABELS), "one source: " + shown);
            assertEquals(2, down.value("switchboard_cluster_nodes", NO_LABELS), "the last count, until Redis says more");
            assertTrue(down.value("switchboard_cluster_failed_emits_total", NO_LABELS) >= 1);
            assertTrue(down.value("switchboard_cluster_timed_out_queries_total", NO_LABELS) >= 1);
            assertEquals(1, down.value("switchboard_cluster_refused_connections_total", NO_LABELS));

            redis.signal("CONT");
            Await.until("the link shows up again", () -> scrape(api).value("switchboard_cluster_link_up", NO_LABELS) == 1);
            double timedBeforeResume = latencyCount(scrape(api));
            a.switchboard().root().emit("back");
            Await.until("emits timed again", () -> latencyCount(scrape(api)) > timedBeforeResume);
        }
    }

    /** The demo's dashboard feed on {@code node}, and a page's socket on it. */
    private static RawClient dashboardOn(ClusterNode node, Timer timer) {
        DashboardFeed.install(node.switchboard(), timer.executor);
        RawClient dashboard = node.server().raw();
        dashboard.connectNamespace(DashboardFeed.NAMESPACE, null);
        return dashboard;
    }

    /** The cluster in the next {@code stats} of the dashboard that matches {@code wanted}. */
    private static JsonObject clusterShown(RawClient dashboard, Predicate<JsonObject> wanted) {
        return dashboard.next(packet -> "event".equals(packet.getString("type")) && "stats".equals(packet.getString("event"))
                && wanted.test(cluster(packet))).getJsonArray("args").getJsonObject(0).getJsonObject("cluster");
    }

    private static JsonObject cluster(JsonObject stats) {
        return stats.getJsonArray("args").getJsonObject(0).getJsonObject("cluster");
    }

    /** The dashboard's timer, stopped with the test. */
    private static final class Timer implements AutoCloseable {
        final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();

        @Override
        public void close() {
            executor.shutdownNow();
        }
    }

    private static double latencyCount(PrometheusText page) {
        return page.value("switchboard_cluster_publish_latency_seconds_count", NO_LABELS);
    }

    private static PrometheusText scrape(ApiClient api) {
        HttpResponse<String> response = api.get("/metrics", KEY);
        assertEquals(200, response.statusCode(), response.body());
        return PrometheusText.parse(response.body());
    }
}
