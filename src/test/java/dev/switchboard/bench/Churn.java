package dev.switchboard.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * S6, the churn soak. {@link Scenarios.Sizes#churnClients()} clients in rooms; a fifth of them stay
 * for the whole run, the rest churn: at each step's rate the oldest churner goes (every other one
 * abruptly, as a dropped network; the others leave on purpose) and a new one connects, joins a
 * room and asks to be announced when it goes, so that its disconnect makes the server send a
 * {@code notice} to the whole namespace, as a chat says "X left". Meanwhile a publisher
 * broadcasts to the rooms. Per step: the p99 of joins (upgrade, connect, join acked), and whether
 * every broadcast and every notice reached every client that stayed. Over the run: the server's
 * RSS, open files and threads every second, and its heap after GC before and after.
 */
final class Churn {
    private static final double JOIN_P99_LIMIT_MS = 1000;
    /** A join not answered within this long failed. */
    private static final long JOIN_TIMEOUT_SECONDS = 10;
    /** How long broadcasts and notices may still come in after a step: a soak's backlog drains slower than a burst's. */
    private static final double SETTLE_SECONDS = 10;
    /** A generator busier than this share of its cores is itself the bottleneck. */
    private static final double GENERATOR_SATURATED = 0.9;

    private final Scenarios.Sizes sizes;
    private final LaunchedServer server;
    private final Results results;
    private final PrintStream log;
    private final Supplier<Fleet> fleets;

    private final Recorder joins = new Recorder(3_600_000_000L, 3);
    private final LongAdder failedJoins = new LongAdder();
    private final LongAdder joinsInFlight = new LongAdder();
    /** Churners whose announce was acked, oldest first: the ones that may go. */
    private final Deque<Churner> present = new ConcurrentLinkedDeque<>();
    /** Numbers the churners as they arrive; the notice of a churner's departure carries its number. */
    private final AtomicLong arrivals = new AtomicLong();

    private record Churner(long number, Client client) {
    }

    /** What the server uses, at one moment. */
    private record Usage(long rssBytes, long openFiles, long threads) {
        Usage max(Usage other) {
            return new Usage(Math.max(rssBytes, other.rssBytes), Math.max(openFiles, other.openFiles),
                    Math.max(threads, other.threads));
        }
    }

    /** One step of the churn, as the clients that stayed saw it. */
    /**
     * @param lostNoticesOfDrops how many of the lost notices were of churners that dropped rather than left
     * @param serverCpu          the server's share of a core during the step
     * @param serverWait         how long its threads waited for a CPU, per second of the step (other work in its way)
     * @param generatorCpu       the generator's share of its cores
     */
    private record Step(double rate, double achieved, Histogram joins, long failedJoins, long lostBroadcasts,
                        long lostNotices, long lostNoticesOfDrops, double serverCpu, double serverWait, double generatorCpu,
                        String invalid) {
        boolean passed() {
            return Scenarios.ms(joins, 99) < JOIN_P99_LIMIT_MS && failedJoins == 0 && lostBroadcasts == 0
                    && lostNotices == 0 && achieved >= rate * 0.99 && invalid == null;
        }
    }

    Churn(Scenarios.Sizes sizes, LaunchedServer server, Results results, PrintStream log, Supplier<Fleet> fleets) {
        this.sizes = sizes;
        this.server = server;
        this.results = results;
        this.log = log;
        this.fleets = fleets;
    }

    void run() {
        int rooms = sizes.churnRooms();
        int stayers = sizes.churnClients() / 5 / rooms * rooms;
        try (Fleet staying = fleets.get(); Fleet churning = fleets.get()) {
            List<Client> stayed = staying.connect(stayers, i -> i % rooms);
            Client publisher = staying.connect(1, i -> -1).get(0);
            for (int i = stayers; i < sizes.churnClients(); i++) {
                arrive(churning, i % rooms);
            }
            awaitJoins();
            log.printf("  S6 %d staying, %d churning clients connected%n", stayers, present.size());
            Usage before = usage();
            long heapBefore = staying.stats(true).heapBytes();
            Usage[] peak = {before};
            long started = System.nanoTime();
            Thread sampler = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    Usage now = usage();
                    peak[0] = peak[0].max(now);
                    log.printf("  S6 t=%3.0f s: RSS %d MiB, %d open files, %d threads%n", (System.nanoTime() - started) / 1e9,
                            now.rssBytes() >> 20, now.openFiles(), now.threads());
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "s6-sampler");
            sampler.setDaemon(true);
            sampler.start();

            double knee = 0;
            int failures = 0;
            for (double rate : sizes.churnRates()) {
                Step step = step(rate, staying, churning, publisher, stayers, rooms);
                long cut = stayed.stream().filter(client -> !client.isOpen()).count();
                log.printf("  S6 %4.0f/s churn (%4.0f/s achieved): joins p50 %6.1f p99 %7.1f ms, %d failed; lost %d broadcasts,"
                                + " %d notices (%d of drops); %d staying clients disconnected; server CPU %.0f%% (waited %.0f%%), generator CPU %.0f%%%s%n", rate, step.achieved(), Scenarios.ms(step.joins(), 50), Scenarios.ms(step.joins(), 99),
                        step.failedJoins(), step.lostBroadcasts(), step.lostNotices(), step.lostNoticesOfDrops(), cut, step.serverCpu() * 100, step.serverWait() * 100, step.generatorCpu() * 100,
                        step.invalid() == null ? "" : "; INVALID: " + step.invalid());
                if (rate == sizes.churnReferenceRate()) {
                    results.put(Metric.S6_JOIN_P99, Scenarios.ms(step.joins(), 99));
                    results.put(Metric.S6_LOST, step.lostBroadcasts() + step.lostNotices());
                    if (step.invalid() != null) {
                        results.invalid("S6 at " + rate + "/s: " + step.invalid(), Metric.S6_JOIN_P99, Metric.S6_LOST);
                    }
                }
                if (step.passed()) {
                    knee = rate;
                    failures = 0;
                } else if (++failures == 2) {
                    break;   // two rates in a row over the limit: past the knee
                }
            }
            results.put(Metric.S6_KNEE, knee);
            // After the churn: the same clients connected, the departed ones' sessions still kept for recovery.
            Fleet.sleep((long) (sizes.churnStepSeconds() * 1000));
            sampler.interrupt();
            Usage after = usage();
            long heapAfter = staying.stats(true).heapBytes();
            log.printf("  S6 after the churn: RSS %d MiB (before %d, peak %d), heap after GC %d MiB (before %d),"
                            + " %d open files (before %d, peak %d), %d threads (before %d, peak %d)%n",
                    after.rssBytes() >> 20, before.rssBytes() >> 20, peak[0].rssBytes() >> 20, heapAfter >> 20, heapBefore >> 20,
                    after.openFiles(), before.openFiles(), peak[0].openFiles(), after.threads(), before.threads(), peak[0].threads());
            results.put(Metric.S6_RSS_BEFORE, before.rssBytes() / 1048576.0);
            results.put(Metric.S6_RSS_PEAK, peak[0].rssBytes() / 1048576.0);
            results.put(Metric.S6_RSS_AFTER, after.rssBytes() / 1048576.0);
            results.put(Metric.S6_HEAP_BEFORE, heapBefore / 1048576.0);
            results.put(Metric.S6_HEAP_AFTER, heapAfter / 1048576.0);
            results.put(Metric.S6_FILES_BEFORE, before.openFiles());
            results.put(Metric.S6_FILES_PEAK, peak[0].openFiles());
            results.put(Metric.S6_FILES_AFTER, after.openFiles());
            results.put(Metric.S6_THREADS_BEFORE, before.threads());
            results.put(Metric.S6_THREADS_PEAK, peak[0].threads());
            results.put(Metric.S6_THREADS_AFTER, after.threads());
        }
    }

    /**
     * Churns at {@code rate} for a step while the publisher broadcasts, then waits for the joins,
     * broadcasts and notices still on their way.
     */
    private Step step(double rate, Fleet staying, Fleet churning, Client publisher, int stayers, int rooms) {
        joins.getIntervalHistogram();
        long failedBefore = failedJoins.sum();
        List<Long> departed = new ArrayList<>();
        long start = System.nanoTime();
        double serverStart = server.cpuSeconds();
        double waitStart = server.runQueueWaitSeconds();
        double generatorStart = ProcStats.ownCpuSeconds();
        long firstSeq = staying.lastSeq() + 1;
        staying.window(firstSeq, Long.MAX_VALUE);
        long[] published = {0};
        Thread broadcasts = new Thread(() -> published[0] = OpenLoop.run(sizes.churnPublishRate(), sizes.churnStepSeconds(),
                (i, due) -> publisher.send("publish", "\"r" + (i % rooms) + "\"," + Payload.of(staying.nextSeq(), due,
                        sizes.payloadChars()))).sent(), "s6-publisher");
        broadcasts.start();
        OpenLoop.Result churn = OpenLoop.run(rate, sizes.churnStepSeconds(), (i, due) -> {
            Churner oldest = present.poll();
            if (oldest == null) {
                return;   // every churner is still joining: the server is behind, and the achieved rate shows it
            }
            if (dropped(oldest.number())) {
                oldest.client().drop();
            } else {
                oldest.client().leave();
            }
            departed.add(oldest.number());
            arrive(churning, oldest.client().room);
        });
        try {
            broadcasts.join(TimeUnit.SECONDS.toMillis(JOIN_TIMEOUT_SECONDS) + (long) (sizes.churnStepSeconds() * 1000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        awaitJoins();
        long expectedBroadcasts = published[0] * (stayers / rooms);
        long broadcastsDelivered = Scenarios.await(staying::inWindow, expectedBroadcasts, SETTLE_SECONDS);
        long expectedNotices = (long) departed.size() * stayers;
        long noticesDelivered = Scenarios.await(() -> departed.stream().mapToLong(staying::notices).sum(), expectedNotices,
                SETTLE_SECONDS);
        long lostOfDrops = departed.stream().filter(Churn::dropped).mapToLong(n -> stayers - staying.notices(n)).sum();
        double seconds = (System.nanoTime() - start) / 1e9;
        double serverCpu = (server.cpuSeconds() - serverStart) / seconds;
        double serverWait = (server.runQueueWaitSeconds() - waitStart) / seconds;
        double generatorCpu = (ProcStats.ownCpuSeconds() - generatorStart) / seconds / Runtime.getRuntime().availableProcessors();
        List<String> invalid = new ArrayList<>();
        if (churn.behind()) {
            invalid.add(String.format("the churn ended %.0f ms behind its schedule", churn.endLagNanos() / 1e6));
        }
        if (generatorCpu > GENERATOR_SATURATED) {
            invalid.add(String.format("the generator used %.0f%% of its CPU", generatorCpu * 100));
        }
        return new Step(rate, departed.size() / sizes.churnStepSeconds(), joins.getIntervalHistogram(),
                failedJoins.sum() - failedBefore, expectedBroadcasts - broadcastsDelivered, expectedNotices - noticesDelivered,
                lostOfDrops, serverCpu, serverWait, generatorCpu, invalid.isEmpty() ? null : String.join("; ", invalid));
    }

    /**
     * A new churner: connects, joins its room (timed), then asks to be announced when it goes. It
     * counts as present, and may be made to go, once the server acked that.
     */
    private void arrive(Fleet churning, int room) {
        long number = arrivals.getAndIncrement();
        Client client = new Client(churning, room, 0);
        long start = System.nanoTime();
        joinsInFlight.increment();
        client.open(false)
                .thenCompose(joined -> {
                    joins.recordValue((System.nanoTime() - start) / 1000);
                    return joined.call("announce", Long.toString(number));
                })
                .orTimeout(JOIN_TIMEOUT_SECONDS, TimeUnit.SECONDS)
                .whenComplete((ack, error) -> {
                    if (error == null) {
                        present.add(new Churner(number, client));
                    } else {
                        failedJoins.increment();
                        client.drop();
                    }
                    joinsInFlight.decrement();
                });
    }

    /** Every other churner drops its connection as a failing network would; the others leave on purpose. */
    private static boolean dropped(long churner) {
        return churner % 2 == 0;
    }

    private void awaitJoins() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(JOIN_TIMEOUT_SECONDS + 1);
        while (joinsInFlight.sum() > 0 && System.nanoTime() < deadline) {
            Fleet.sleep(20);
        }
    }

    private Usage usage() {
        return new Usage(server.rssBytes(), server.openFiles(), server.threads());
    }
}
