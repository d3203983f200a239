package dev.switchboard.metrics;

import dev.switchboard.adapter.ClusterStatus;
import dev.switchboard.server.Metrics;
import dev.switchboard.server.Switchboard;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * A {@link Switchboard}'s figures ({@link Metrics}, which the dashboard page reads too) and the
 * JVM's (heap, GC, threads, classes) in the Prometheus text format, through Micrometer's
 * Prometheus registry. Each meter has its unit and help text.
 *
 * <pre>{@code
 * PrometheusMetrics metrics = PrometheusMetrics.of(server);
 * String page = metrics.scrape();   // serve with PrometheusMetrics.CONTENT_TYPE
 * metrics.close();                  // when the server stops
 * }</pre>
 *
 * <p>Threads: any thread may scrape; Micrometer's registry is thread-safe.
 */
public final class PrometheusMetrics implements AutoCloseable {
    /** The content type of {@link #scrape()}: the Prometheus text format, version 0.0.4. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final Metrics metrics;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** Listens to the JVM's GC notifications until closed. */
    private final JvmGcMetrics gc = new JvmGcMetrics();

    private PrometheusMetrics(Metrics metrics) {
        this.metrics = metrics;
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        bindServer();
        if (metrics.cluster().clustered()) {
            bindClusterLink();
        }
    }

    /** The figures of {@code server} and of this JVM. */
    public static PrometheusMetrics of(Switchboard server) {
        return new PrometheusMetrics(server.metrics());
    }

    /** The registry, to add the application's own meters. */
    public MeterRegistry registry() {
        return registry;
    }

    /** Every meter now, in the Prometheus text format. */
    public String scrape() {
        bindPerNamespaceAndCode();
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }

    private void bindServer() {
        gauge("switchboard.connections", "connections", "Open WebSocket connections on this node", Metrics::connections);
        gauge("switchboard.send.queue", "bytes", "Bytes waiting in all send queues", Metrics::queuedBytes);
        gauge("switchboard.send.queue.largest", "bytes", "Bytes waiting in the fullest send queue",
                Metrics::largestQueueBytes);
        gauge("switchboard.recovery.waiting.sessions", "sessions",
                "Dropped sessions waiting for their client to come back", Metrics::sessionsAwaitingRecovery);

        counter("switchboard.received.events", "events", "Events received from clients", Metrics::eventsIn);
        counter("switchboard.emitted.events", "events", "Events the application emitted, once per emit",
                Metrics::eventsOut);
        counter("switchboard.delivered.frames", "frames",
                "Frames queued to clients: each event once per recipient, and control frames", Metrics::framesOut);
        counter("switchboard.received", "bytes", "UTF-8 bytes of the messages received from clients", Metrics::bytesIn);
        counter("switchboard.sent", "bytes", "UTF-8 bytes of the frames queued to clients", Metrics::bytesOut);
        counter("switchboard.dropped.volatile.frames", "frames", "Volatile frames dropped for recipients that lag",
                Metrics::droppedVolatile);
        counter("switchboard.slow.consumer.connections", "connections", "Connections evicted as slow consumers",
                Metrics::slowConsumers);
        counter("switchboard.rate.limited.events", "events", "Events refused by the per-connection rate limit",
                Metrics::rateLimited);
        counter("switchboard.unhandled.events", "events", "Events that had no listener", Metrics::unhandledEvents);
        counter("switchboard.unknown.acks", "acks", "Acks from clients that matched nothing pending",
                Metrics::unknownAcks);
        counter("switchboard.oversized.messages", "messages", "Messages refused for size (close 1009)",
                Metrics::oversizedMessages);
        counter("switchboard.rejected.origin.upgrades", "upgrades", "WebSocket upgrades (and Socket.IO long-polling requests) refused for their Origin",
                Metrics::rejectedOrigins);
        counter("switchboard.refused.connections", "connections", "Connections refused by a connection cap, or dropped at the cap of those not upgraded yet",
                Metrics::refusedConnections);
        counter("switchboard.listener.failures", "failures", "Application callbacks (listeners, middleware) that threw",
                Metrics::listenerFailures);
        counter("switchboard.handler.timeouts", "timeouts", "Events whose listeners ran past the handler timeout",
                Metrics::handlerTimeouts);
        counter("switchboard.ack.timeouts", "timeouts", "Emits with an ack that some recipient did not answer in time",
                Metrics::ackTimeouts);
        recoveries("succeeded", Metrics::recoveries);
        recoveries("failed", Metrics::failedRecoveries);
        gauge("switchboard.cluster.nodes", "nodes", "Nodes of the cluster alive at the last heartbeat, this one included"
                + " (1 without a cluster)", m -> m.cluster().nodes());
        counter("switchboard.cluster.refused.connections", "connections",
                "Connections refused (close 1013) while this node could not reach its cluster", Metrics::refusedUnavailable);
    }

    /** Only a node on a cluster has a link to Redis, and publishes through it. */
    private void bindClusterLink() {
        gauge("switchboard.cluster.link.up", null, "1 while this node's heartbeats reach Redis, else 0 (new connections"
                + " are refused)", m -> m.cluster().linkUp() ? 1 : 0);
        gauge("switchboard.cluster.fenced", null, "1 while this node has been cut from Redis longer than the node timeout,"
                + " so that any node still reaching Redis counts it dead and it closes its connections once back, else 0", m -> m.cluster().fenced() ? 1 : 0);
        counter("switchboard.cluster.fencings", "fencings", "Times this node found itself counted dead and closed its"
                + " connections", m -> m.cluster().fencings());
        // Micrometer has no meter that reads a histogram counted elsewhere: the Prometheus client's model does.
        registry.getPrometheusRegistry().register(() -> publishLatency(metrics.cluster()));
        counter("switchboard.cluster.failed.emits", "emits", "Emits Redis did not take within the publish timeout"
                + " (their senders got a ClusterException)", m -> m.cluster().publishFailures());
        counter("switchboard.cluster.timed.out.queries", "queries", "Queries across nodes that timed out: a node silent"
                + " past the query timeout, or Redis unreachable", m -> m.cluster().queryTimeouts());
    }

    /**
     * Namespaces and error codes appear while the server runs; registering one again finds the
     * meter already there.
     */
    private void bindPerNamespaceAndCode() {
        for (String namespace : metrics.socketsByNamespace().keySet()) {
            Gauge.builder("switchboard.sockets", metrics, m -> m.socketsByNamespace().getOrDefault(namespace, 0))
                    .baseUnit("sockets").description("Sockets connected to this node, by namespace")
                    .tag("namespace", namespace).strongReference(true).register(registry);
        }
        for (String wire : metrics.connectionsByWire().keySet()) {
            String[] words = wire.split(" ", 2);
            Gauge.builder("switchboard.connections.by.wire", metrics, m -> m.connectionsByWire().getOrDefault(wire, 0))
                    .baseUnit("connections").description("Open connections on this node, by wire format and transport")
                    .tag("wire", words[0]).tag("transport", words[1]).strongReference(true).register(registry);
        }
        for (String code : metrics.protocolErrorsByCode().keySet()) {
            FunctionCounter.builder("switchboard.protocol.errors", metrics,
                            m -> m.protocolErrorsByCode().getOrDefault(code, 0L))
                    .baseUnit("errors").description("Frames refused as malformed or over a limit, by the code sent back")
                    .tag("code", code).register(registry);
        }
    }

    private static HistogramSnapshot publishLatency(ClusterStatus cluster) {
        List<Double> bounds = new ArrayList<>(ClusterStatus.PUBLISH_BOUNDS_SECONDS);
        bounds.add(Double.POSITIVE_INFINITY);
        return HistogramSnapshot.builder().name("switchboard_cluster_publish_latency_seconds").unit(Unit.SECONDS)
                .help("Time from publishing an emit to Redis until this node read it back from the log")
                .dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                        .classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, cluster.publishBuckets()))
                        .sum(cluster.publishNanos() / 1e9).build())
                .build();
    }

    private void recoveries(String result, ToDoubleFunction<Metrics> value) {
        FunctionCounter.builder("switchboard.recoveries", metrics, value).baseUnit("recoveries")
                .description("Returning clients, by whether their session was recovered").tag("result", result)
                .register(registry);
    }

    private void gauge(String name, String unit, String help, ToDoubleFunction<Metrics> value) {
        Gauge.builder(name, metrics, value).baseUnit(unit).description(help).strongReference(true).register(registry);
    }

    private void counter(String name, String unit, String help, ToDoubleFunction<Metrics> value) {
        FunctionCounter.builder(name, metrics, value).baseUnit(unit).description(help).register(registry);
    }
}
