package dev.switchboard.bench;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;

/**
 * The scenarios, run against one server process. Each builds its own {@link Fleet} and
 * writes its figures into a {@link Results}; every phase that counts checks that the generator
 * kept its schedule and had CPU to spare, and marks its figures invalid otherwise.
 */
final class Scenarios {
    /** A generator busier than this share of its cores is itself the bottleneck. */
    private static final double GENERATOR_SATURATED = 0.9;
    private static final double P99_LIMIT_MS = 50;
    /** A server using more CPU than this share of its core in an S2 step is saturated. */
    private static final double SATURATED = 0.95;
    /** S4's stream into the stalled reader: enough to fill a 4 MiB queue within the run. */
    private static final double FIREHOSE_BYTES_PER_SECOND = 2 << 20;
    private static final int FIREHOSE_EVENT_CHARS = 64 * 1024;
    /**
     * A fan-out is measured once the server's JIT compilers take less than this share of its core
     * over a warm-up period of the same traffic ({@link #warmUntilJitQuiet}), or after at most
     * {@link #MAX_WARM_ROUNDS} such periods.
     */
    private static final double JIT_QUIET = 0.05;
    private static final int MAX_WARM_ROUNDS = 8;
    /** The most rounds of W; see {@link #warmUp}. */
    private static final int MAX_WARM_UP_ROUNDS = 4;
    /**
     * How often every server under test pings each connection (Switchboard's default, socket.io's
     * {@code pingInterval} in bench/socketio/server.js); see {@link #warmPastFirstPings}.
     */
    private static final double PING_INTERVAL_SECONDS = 25;

    /** The scenarios in the order they run; S4 runs inside S3's one-room fleet; W warms the server up. */
    static final List<String> ORDER = List.of("S1", "W", "S2", "S3", "S5", "S7", "S6");
    /**
     * What runs on a cluster of several nodes: S1, S2, S4 and S6 read figures (heap, queues,
     * connections) from one node only, and S5 kills a node, so nothing can follow it.
     */
    private static final Set<String> MULTI_NODE = Set.of("S3", "S5");

    /** The size of everything; {@link #full()} is what docs/BENCHMARKS.md reports. */
    record Sizes(int idleClients, int idleRooms, int waves,
                 int ackClients, double[] ackRates, double ackStepSeconds, double ackReferenceRate,
                 int fanoutClients, int manyRooms, double deliveriesPerSecond,
                 int stormClients, int stormRooms, double stormRate, double outageSeconds,
                 double warmUpSeconds, double warmSeconds, double measureSeconds, int payloadChars,
                 int churnClients, int churnRooms, double[] churnRates, double churnReferenceRate, double churnStepSeconds,
                 double churnPublishRate, BusyRooms busy) {

        /**
         * S2's rates: doubling to 16 000, then about an eighth apart, so that a knee is known to
         * within that and two targets' knees compare to a tenth or so (steps of a third, as
         * before, made one build's ratio to socket.io 1.25x in one run and 1.67x in the next).
         */
        private static final double[] S2_RATES = {1000, 2000, 4000, 8000, 12000, 16000, 18000, 20000, 22500, 25000,
                28000, 32000, 36000, 40000, 45000, 50000, 56000, 64000, 72000, 80000, 90000};

        static Sizes full() {
            return new Sizes(5000, 50, 2,
                    500, S2_RATES, 3, 2000,
                    2000, 100, 10_000,
                    2000, 20, 100, 0.25,
                    10, 2, 6, 100,
                    1000, 10, new double[] {10, 25, 50, 100, 200, 300, 400, 600, 800}, 300, 6, 100,
                    new BusyRooms(500, 50, 5, 10_000));
        }

        /** A second or two per scenario, a few clients: for the smoke test. */
        static Sizes smoke() {
            return new Sizes(30, 3, 1,
                    10, new double[] {200}, 0.4, 200,
                    30, 3, 1500,
                    30, 3, 100, 0.2,
                    0, 0.1, 0.3, 100,
                    40, 2, new double[] {20}, 20, 1, 20,
                    new BusyRooms(20, 4, 2, 1000));
        }
    }

    /**
     * S7's size: {@code clients}, each in {@code roomsPerClient} of {@code rooms} rooms (every room
     * the same size), publishing in turn at {@code deliveriesPerSecond} in all.
     */
    record BusyRooms(int clients, int rooms, int roomsPerClient, double deliveriesPerSecond) {
        int roomSize() {
            return clients * roomsPerClient / rooms;
        }

        /** The {@code k}th room of client {@code c}: rooms / roomsPerClient apart, so that every room gets as many. */
        int room(int c, int k) {
            return (c + k * (rooms / roomsPerClient)) % rooms;
        }
    }

    /** Where one fan-out run's figures go. */
    private record Layout(String name, Metric perCpu, Metric perAppCpu, Metric p99, Metric loss,
                          Metric userMicros, Metric systemMicros, Metric switches, Metric syscalls) {
    }

    private static final Layout S3_ONE = new Layout("S3 one room", Metric.S3_ONE_DELIVERIES_PER_CPU,
            Metric.S3_ONE_DELIVERIES_PER_CPU_NO_JIT, Metric.S3_ONE_P99, Metric.S3_ONE_LOSS, Metric.S3_ONE_USER_US,
            Metric.S3_ONE_SYSTEM_US, Metric.S3_ONE_SWITCHES, Metric.S3_ONE_SYSCALLS);
    private static final Layout S3_MANY = new Layout("S3 many rooms", Metric.S3_MANY_DELIVERIES_PER_CPU,
            Metric.S3_MANY_DELIVERIES_PER_CPU_NO_JIT, Metric.S3_MANY_P99, Metric.S3_MANY_LOSS, Metric.S3_MANY_USER_US,
            Metric.S3_MANY_SYSTEM_US, Metric.S3_MANY_SWITCHES, Metric.S3_MANY_SYSCALLS);
    private static final Layout S7_BUSY = new Layout("S7 busy rooms", Metric.S7_DELIVERIES_PER_CPU,
            Metric.S7_DELIVERIES_PER_CPU_NO_JIT, Metric.S7_P99, Metric.S7_LOSS, Metric.S7_USER_US,
            Metric.S7_SYSTEM_US, Metric.S7_SWITCHES, Metric.S7_SYSCALLS);

    private final Sizes sizes;
    private final LaunchedServer server;
    private final Target target;
    private final Results results;
    private final PrintStream log;
    private final Path histogramFile;

    Scenarios(Sizes sizes, LaunchedServer server, Target target, Results results, PrintStream log, Path out) {
        this.histogramFile = out.resolve(target.id + "-s1-histogram.txt");
        this.sizes = sizes;
        this.server = server;
        this.target = target;
        this.results = results;
        this.log = log;
    }

    Target target() {
        return target;
    }

    private Fleet fleet() {
        return new Fleet(target.wire, server.addresses());
    }

    private boolean multiNode() {
        return server.addresses().size() > 1;
    }

    /** Runs one of {@link #ORDER}, with S4 inside S3 when selected; a failure is noted, not thrown. */
    void run(String scenario, Set<String> chosen) {
        Set<String> selected = multiNode() ? chosen.stream().filter(MULTI_NODE::contains).collect(Collectors.toSet()) : chosen;
        switch (scenario) {
            case "S1" -> runIf(selected, "S1", this::idle);
            case "S2" -> runIf(selected, "S2", this::ackRoundTrip);
            case "S3" -> {
                if (selected.contains("S4") && !selected.contains("S3")) {
                    runIf(selected, "S4", () -> roomFanOut(true));
                } else {
                    runIf(selected, "S3", () -> roomFanOut(selected.contains("S4")));
                }
            }
            case "S5" -> runIf(selected, "S5", this::reconnectStorm);
            case "S7" -> runIf(selected, "S7", this::busyRooms);
            case "S6" -> {
                if (target.role == Target.Role.FLOOR || target.role == Target.Role.WRITE_FLOOR) {
                    // The floors have no rooms to announce departures in: S6 measures the frameworks.
                    return;
                }
                runIf(selected, "S6", () -> new Churn(sizes, server, results, log, this::fleet).run());
            }
            case "W" -> runIf(Set.of("W"), "W", this::warmUp);
            default -> throw new IllegalArgumentException(scenario);
        }
    }

    private void runIf(Set<String> selected, String name, Runnable scenario) {
        if (!selected.contains(name)) {
            return;
        }
        long start = System.nanoTime();
        try {
            scenario.run();
        } catch (RuntimeException e) {
            results.note(name + " failed: " + e + (e.getCause() != null ? " (" + e.getCause() + ")" : ""));
            e.printStackTrace(log);
        }
        log.printf("  %s done in %.1f s%n", name, (System.nanoTime() - start) / 1e9);
    }

    // ---- S1: idle footprint ----

    private void idle() {
        try (Fleet fleet = fleet()) {
            Fleet.Stats base = fleet.stats(true);
            long baseRss = server.rssBytes();
            int n = sizes.idleClients();
            long start = System.nanoTime();
            List<Client> clients = fleet.connect(n, i -> i % sizes.idleRooms());
            double connectSeconds = (System.nanoTime() - start) / 1e9;
            Fleet.sleep((long) (sizes.warmSeconds() * 250));
            Fleet.Stats loaded = fleet.stats(true);
            results.put(Metric.S1_HEAP_PER_CONN, (loaded.heapBytes() - base.heapBytes()) / 1024.0 / n);
            results.put(Metric.S1_RSS_PER_CONN, (server.rssBytes() - baseRss) / 1024.0 / n);
            results.put(Metric.S1_THREADS, server.threads());
            results.put(Metric.S1_CONNECTS_PER_SECOND, n / connectSeconds);
            log.printf("  S1 %d connected in %.1f s; heap %d -> %d KiB%n", n, connectSeconds,
                    base.heapBytes() >> 10, loaded.heapBytes() >> 10);
            if (target != Target.SOCKETIO) {
                // What the heap holds per connection, class by class: the profile of S1.
                server.classHistogram(histogramFile);
            }
            fleet.leave(clients, 1);
            for (int wave = 1; wave < sizes.waves(); wave++) {
                fleet.leave(fleet.connect(n, i -> i % sizes.idleRooms()), 1);
            }
            Fleet.sleep((long) (sizes.warmSeconds() * 250));
            Fleet.Stats after = fleet.stats(true);
            results.put(Metric.S1_HEAP_AFTER_WAVES, (after.heapBytes() - base.heapBytes()) / 1024.0);
            log.printf("  S1 after %d waves: heap %d KiB (baseline %d KiB), %d connections%n", sizes.waves(),
                    after.heapBytes() >> 10, base.heapBytes() >> 10, after.connections());
        }
    }

    // ---- W: warm-up ----

    /**
     * Traffic of every kind the later scenarios send, for {@link Sizes#warmUpSeconds()} at a time
     * until the JIT is quiet ({@link #JIT_QUIET}, at most {@link #MAX_WARM_UP_ROUNDS} rounds),
     * measured by nothing: on one pinned core a JVM's JIT compilers would otherwise take CPU from
     * the first measured phases (and Switchboard, with more code to compile, would pay more of it).
     * One round made the code run per delivery hot, but not the code run once per publish: a
     * cluster node's Redis client then reached C2 in S3's one-room phase, at 5 publishes a second,
     * and took 0.3 to 1.2 s of JIT into a phase of 1.2 to 2.4 s of server CPU (2026-12-06).
     */
    private void warmUp() {
        if (sizes.warmUpSeconds() <= 0) {
            return;
        }
        try (Fleet fleet = fleet()) {
            int rooms = 10;
            List<Client> clients = fleet.connect(200, i -> i % rooms);
            Client publisher = fleet.connect(1, i -> -1).get(0);
            for (int round = 1; round <= MAX_WARM_UP_ROUNDS; round++) {
                double jit = server.jitCpuSeconds();
                Thread echoes = new Thread(() -> OpenLoop.run(2000, sizes.warmUpSeconds(), (i, due) ->
                        clients.get((int) (i % clients.size())).echo(Payload.of(fleet.nextSeq(), due, sizes.payloadChars()))),
                        "warm-up-echoes");
                echoes.start();
                OpenLoop.run(250, sizes.warmUpSeconds(), (i, due) -> publisher.send("publish",
                        "\"r" + (i % rooms) + "\"," + Payload.of(fleet.nextSeq(), due, sizes.payloadChars())));
                join(echoes);
                double used = server.jitCpuSeconds() - jit;
                log.printf("  W %.0f s of echoes and publishes; JIT compilers used %.2f s of CPU meanwhile%n",
                        sizes.warmUpSeconds(), used);
                if (used < JIT_QUIET * sizes.warmUpSeconds()) {
                    break;
                }
            }
            fleet.leave(clients, 2);
        }
    }

    // ---- S2: ack round trip at rising rates ----

    private void ackRoundTrip() {
        try (Fleet fleet = fleet()) {
            int n = sizes.ackClients();
            List<Client> clients = fleet.connect(n, i -> -1);
            OpenLoop.Action echo = (i, due) ->
                    clients.get((int) (i % n)).echo(Payload.of(fleet.nextSeq(), due, sizes.payloadChars()));
            // Warm-up: every target's JIT (or V8) sees the same traffic before anything counts.
            long acked = fleet.echoAcks();
            OpenLoop.Result warm = OpenLoop.run(sizes.ackRates()[0], sizes.warmSeconds() * 1.5, echo);
            await(() -> fleet.echoAcks() - acked, warm.sent(), 2);
            fleet.takeLatencies();
            double knee = 0;
            int failures = 0;
            for (double rate : sizes.ackRates()) {
                long before = fleet.echoAcks();
                Meter meter = new Meter();
                fleet.measuring(true);
                OpenLoop.Result run = OpenLoop.run(rate, sizes.ackStepSeconds(), echo);
                long answered = await(() -> fleet.echoAcks() - before, run.sent(), 2);
                fleet.measuring(false);
                Meter.Phase phase = meter.finish();
                Histogram latency = fleet.takeLatencies();
                double p99 = ms(latency, 99);
                long lost = run.sent() - answered;
                double cpuPerAck = answered == 0 ? 0 : phase.serverCpu() * 1e6 / answered;
                double switchesPerAck = answered == 0 ? 0 : (double) phase.switches() / answered;
                log.printf("  S2 %6.0f acks/s: p50 %7.2f  p99 %7.2f  p99.9 %7.2f ms  unanswered %d  server CPU %3.0f%% (waited %2.0f%%;"
                                + " %.1f µs and %.2f context switches per ack)  generator CPU %3.0f%%%n",
                        rate, ms(latency, 50), p99, ms(latency, 99.9), lost, phase.serverShare() * 100,
                        phase.serverWaitShare() * 100, cpuPerAck, switchesPerAck, phase.generatorShare() * 100);
                String invalid = phase.invalidBecause(run);
                if (rate == sizes.ackReferenceRate()) {
                    results.put(Metric.S2_P50, ms(latency, 50));
                    results.put(Metric.S2_P99, p99);
                    results.put(Metric.S2_P999, ms(latency, 99.9));
                    results.put(Metric.S2_CPU_US, cpuPerAck);
                    results.put(Metric.S2_SWITCHES, switchesPerAck);
                    if (invalid != null) {
                        results.invalid("S2 at " + rate + "/s: " + invalid, Metric.S2_P50, Metric.S2_P99, Metric.S2_P999,
                                Metric.S2_CPU_US, Metric.S2_SWITCHES);
                    }
                }
                if (phase.generatorSaturated()) {
                    results.invalid("S2 knee search stopped at " + rate + "/s: " + invalid, Metric.S2_KNEE);
                    break;
                }
                // A server at full CPU can pass a 3-second step before its backlog grows: not sustainable.
                boolean sustainable = phase.serverShare() < SATURATED;
                if (p99 < P99_LIMIT_MS && lost == 0 && invalid == null && sustainable) {
                    knee = rate;
                    failures = 0;
                } else if (++failures == 2) {
                    // Two rates in a row over the limit: past the knee, not a passing hiccup (a GC, a noisy neighbour).
                    break;
                }
            }
            results.put(Metric.S2_KNEE, knee);
            if (knee == sizes.ackRates()[sizes.ackRates().length - 1]) {
                results.note("S2 knee is at least " + knee + "/s, the highest rate tried");
            }
        }
    }

    // ---- S3: room fan-out (and S4, a stalled reader in the same room) ----

    private void roomFanOut(boolean withStalledReader) {
        int n = sizes.fanoutClients();
        try (Fleet fleet = fleet()) {
            Fleet.Stats base = fleet.stats(true);
            long connecting = System.nanoTime();
            List<Client> members = fleet.connect(n, i -> 0);
            Client publisher = fleet.connect(1, i -> -1).get(0);
            long connected = System.nanoTime();
            double rate = sizes.deliveriesPerSecond() / n;
            warmUntilJitQuiet("S3", publishing(fleet, publisher, 1), rate);
            warmPastFirstPings("S3", publishing(fleet, publisher, 1), rate, connecting, connected);
            Fanout one = fanOut("S3", fleet, publishing(fleet, publisher, 1), rate, 1, n);
            record(one, S3_ONE);
            Fleet.Stats loaded = fleet.stats(true);
            if (!multiNode()) {
                results.put(Metric.S3_HEAP_PER_CONN, (loaded.heapBytes() - base.heapBytes()) / 1024.0 / n);
            }
            if (withStalledReader) {
                stalledReader(fleet, publisher, rate, n, one.p99);
            }
        }
        try (Fleet fleet = fleet()) {
            int rooms = sizes.manyRooms();
            long connecting = System.nanoTime();
            fleet.connect(n, i -> i % rooms);
            Client publisher = fleet.connect(1, i -> -1).get(0);
            long connected = System.nanoTime();
            int roomSize = n / rooms;
            warmUntilJitQuiet("S3", publishing(fleet, publisher, rooms), sizes.deliveriesPerSecond() / roomSize);
            warmPastFirstPings("S3", publishing(fleet, publisher, rooms), sizes.deliveriesPerSecond() / roomSize,
                    connecting, connected);
            Fanout many = fanOut("S3", fleet, publishing(fleet, publisher, rooms), sizes.deliveriesPerSecond() / roomSize,
                    rooms, roomSize);
            record(many, S3_MANY);
        }
    }

    private void record(Fanout run, Layout layout) {
        results.put(layout.perCpu(), run.deliveriesPerCpuSecond);
        results.put(layout.perAppCpu(), run.deliveriesPerAppCpuSecond);
        results.put(layout.p99(), run.p99);
        results.put(layout.loss(), run.lost);
        results.put(layout.userMicros(), run.userMicrosPerDelivery);
        results.put(layout.systemMicros(), run.systemMicrosPerDelivery);
        results.put(layout.switches(), run.switchesPerDelivery);
        results.put(layout.syscalls(), run.syscallsPerDelivery);
        if (run.invalid != null) {
            results.invalid(layout.name() + ": " + run.invalid, layout.perCpu(), layout.p99());
        }
    }

    /** One publisher sending {@code publish} round-robin to rooms r0..r{rooms-1}. */
    private OpenLoop.Action publishing(Fleet fleet, Client publisher, int rooms) {
        return (i, due) -> publisher.send("publish",
                "\"r" + (i % rooms) + "\"," + Payload.of(fleet.nextSeq(), due, sizes.payloadChars()));
    }

    /**
     * S4: S3's one-room run again, with one more member that never reads. It is also the only
     * member of a second room, into which a second publisher pours {@link #FIREHOSE_BYTES_PER_SECOND}
     * of large events, so that its queue must grow past what the kernel's socket buffers absorb:
     * bounded, the server's queue for it plateaus (or the server cuts it off); the others' p99 should
     * not move.
     */
    private void stalledReader(Fleet fleet, Client publisher, double rate, int readers, double s3p99) {
        // A small receive buffer: the kernel holds only a few KiB for it, as for a stalled phone.
        Client stalled = fleet.connect(1, i -> 0, 4096).get(0);
        try {
            stalled.call("join", "\"stall\"").get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the stalled reader could not join its second room", e);
        }
        stalled.stopReading();
        Client hose = fleet.connect(1, i -> -1).get(0);
        long connectionsBefore = fleet.stats(false).connections();
        AtomicLong maxQueued = new AtomicLong();
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    maxQueued.accumulateAndGet(fleet.stats(false).maxQueuedBytes(), Math::max);
                    Thread.sleep(250);
                } catch (InterruptedException | RuntimeException e) {
                    return;
                }
            }
        }, "queue-sampler");
        int size = FIREHOSE_EVENT_CHARS;
        double hoseRate = FIREHOSE_BYTES_PER_SECOND / size;
        Thread firehose = new Thread(() -> OpenLoop.run(hoseRate, sizes.warmSeconds() + sizes.measureSeconds(),
                (i, due) -> hose.send("publish", "\"stall\"," + Payload.of(fleet.nextSeq(), due, size))), "firehose");
        sampler.setDaemon(true);
        sampler.start();
        firehose.start();
        Fanout slow = fanOut("S4", fleet, publishing(fleet, publisher, 1), rate, 1, readers);
        join(firehose);
        sampler.interrupt();
        long connectionsAfter = fleet.stats(false).connections();
        results.put(Metric.S4_P99, slow.p99);
        results.put(Metric.S4_P99_VS_S3, slow.p99 / s3p99);
        results.put(Metric.S4_SLOW_QUEUE, maxQueued.get() / 1024.0);
        results.put(Metric.S4_LOSS, slow.lost);
        if (slow.invalid != null) {
            results.invalid("S4: " + slow.invalid, Metric.S4_P99, Metric.S4_P99_VS_S3);
        }
        boolean cutOff = connectionsAfter < connectionsBefore;
        results.note("S4: the stalled reader was " + (cutOff ? "cut off by the server" : "still connected at the end")
                + String.format(" (largest queue %.0f KiB)", maxQueued.get() / 1024.0));
        log.printf("  S4 stalled reader: largest server queue %d KiB, %s%n", maxQueued.get() >> 10,
                cutOff ? "cut off" : "still connected");
    }

    /**
     * @param deliveriesPerAppCpuSecond the same with the JIT compiler threads' CPU left out (NaN where not known)
     * @param switchesPerDelivery       the server's context switches, voluntary and not
     * @param syscallsPerDelivery       the server's read- and write-family system calls
     */
    private record Fanout(double deliveriesPerCpuSecond, double deliveriesPerAppCpuSecond, double p99, long lost,
                          double userMicrosPerDelivery, double systemMicrosPerDelivery, double switchesPerDelivery,
                          double syscallsPerDelivery, String invalid) {
    }

    /**
     * Publishes at {@code rate} for a warm-up period at a time while the server's JIT compilers take
     * more than {@link #JIT_QUIET} of its core, so that a fan-out measures the steady cost of its
     * traffic rather than the compiling of code that W's traffic had not made hot (on a cluster of
     * JVMs, each compiles it). The same rule for every target; Node's compilers are not told apart
     * from its other threads, so a Node target warms for one period.
     */
    private void warmUntilJitQuiet(String name, OpenLoop.Action publish, double rate) {
        for (int round = 1; round <= MAX_WARM_ROUNDS; round++) {
            double jit = server.jitCpuSeconds();
            OpenLoop.run(rate, sizes.warmSeconds(), publish);
            double share = (server.jitCpuSeconds() - jit) / sizes.warmSeconds();
            if (share < JIT_QUIET || round == MAX_WARM_ROUNDS) {
                log.printf("  %s warmed for %d period(s) of %.1f s; JIT compilers at %.0f%% of a core in the last%n",
                        name, round, sizes.warmSeconds(), share * 100);
                return;
            }
        }
    }

    /**
     * Publishes on past the fleet's first round of pings, when {@link #fanOut}'s measured phase
     * would otherwise take it in, and warms again until the JIT is quiet. Each client answers a
     * ping {@link #PING_INTERVAL_SECONDS} after it connected, so 25 s after the fleet connected
     * every server reads a pong from each: work that is not the fan-out's, and on a JVM the first
     * compiling of its whole read path at C2 (TCPNIOTransport.fireIOEvent, Tyrus's read handler),
     * which a single server's busy W phase had compiled long before. A target whose warm-up is
     * short (a single server, Node) is measured before that round; one whose warm-up is long (each
     * node of a cluster compiles everything) was measured across it, which took 1.3 to 2.5 s of JIT
     * CPU into a one-room phase of 3.5 to 4 s of server CPU (2026-12-05).
     */
    private void warmPastFirstPings(String name, OpenLoop.Action publish, double rate, long connectingNanos,
                                    long connectedNanos) {
        long measuredFrom = System.nanoTime() + seconds(sizes.warmSeconds() + 0.3);
        long measuredUntil = measuredFrom + seconds(sizes.measureSeconds() + 3);
        long pingsFrom = connectingNanos + seconds(PING_INTERVAL_SECONDS);
        // Each answer comes within a second of its ping.
        long pingsUntil = connectedNanos + seconds(PING_INTERVAL_SECONDS + 1);
        if (pingsFrom >= measuredUntil || pingsUntil <= measuredFrom) {
            return;
        }
        OpenLoop.run(rate, (pingsUntil - System.nanoTime()) / 1e9, publish);
        log.printf("  %s warmed past the clients' first pings, %.0f s after they connected%n", name, PING_INTERVAL_SECONDS);
        warmUntilJitQuiet(name, publish, rate);
    }

    private static long seconds(double seconds) {
        return (long) (seconds * 1e9);
    }

    /**
     * Runs {@code publish} at {@code rate} (publishes to {@code rooms} rooms), warm-up first; counts
     * the deliveries of the measured publishes (each reaches {@code roomSize} readers) and the
     * server CPU, context switches and system calls they took, until they have all arrived or 3 s
     * after the last.
     */
    private Fanout fanOut(String name, Fleet fleet, OpenLoop.Action publish, double rate, int rooms, int roomSize) {
        OpenLoop.run(rate, sizes.warmSeconds(), publish);
        Fleet.sleep((long) (sizes.warmSeconds() * 150));
        fleet.takeLatencies();
        long from = fleet.lastSeq() + 1;
        fleet.window(from, Long.MAX_VALUE);
        double[] cpuByProcess = server.cpuByProcess();
        Meter meter = new Meter();
        fleet.measuring(true);
        OpenLoop.Result run = OpenLoop.run(rate, sizes.measureSeconds(), publish);
        long expected = run.sent() * roomSize;
        long delivered = await(fleet::inWindow, expected, 3);
        fleet.measuring(false);
        Meter.Phase phase = meter.finish();
        Histogram latency = fleet.takeLatencies();
        log.printf("  %s %d room(s) x %d, %.0f publishes/s: %d of %d delivered, p50 %.2f p99 %.2f ms, server CPU %.2f s"
                        + " (%.0f%%, user %.2f s, system %.2f s, of which JIT %.2f s; waited %.0f%%), %d context switches,"
                        + " %d read/write calls, generator CPU %.0f%%%n",
                name, rooms, roomSize, rate, delivered, expected, ms(latency, 50), ms(latency, 99), phase.serverCpu,
                phase.serverShare() * 100, phase.serverUser, phase.serverSystem, phase.serverJit,
                phase.serverWaitShare() * 100, phase.switches, phase.syscalls, phase.generatorShare() * 100);
        if (target.nodes > 0) {
            log.printf("  %s server CPU by process: %s%n", name, server.cpuSince(cpuByProcess));
        }
        double withoutJit = target == Target.SOCKETIO ? Double.NaN
                : delivered / Math.max(phase.serverCpu - phase.serverJit, 0.01);
        double per = Math.max(delivered, 1);
        return new Fanout(delivered / Math.max(phase.serverCpu, 0.01), withoutJit, ms(latency, 99), expected - delivered,
                phase.serverUser * 1e6 / per, phase.serverSystem * 1e6 / per, phase.switches / per, phase.syscalls / per,
                phase.invalidBecause(run));
    }

    // ---- S7: busy rooms ----

    /**
     * S7: every client in several rooms and publishing into them in turn, at S3's total rate, so
     * that each connection receives several times S3's events per second and a server that
     * coalesced writes per connection would save system calls here first.
     */
    private void busyRooms() {
        BusyRooms busy = sizes.busy();
        int n = busy.clients();
        try (Fleet fleet = fleet()) {
            List<Client> clients = fleet.connect(n, c -> busy.room(c, 0));
            List<CompletableFuture<String>> joins = new ArrayList<>();
            for (int c = 0; c < n; c++) {
                for (int k = 1; k < busy.roomsPerClient(); k++) {
                    joins.add(clients.get(c).call("join", "\"r" + busy.room(c, k) + "\""));
                }
            }
            try {
                CompletableFuture.allOf(joins.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("S7: the clients could not join their rooms", e);
            }
            fleet.unordered();
            // Publish i comes from client i mod n, into each of its rooms in turn.
            OpenLoop.Action publish = (i, due) -> {
                int c = (int) (i % n);
                clients.get(c).send("publish", "\"r" + busy.room(c, (int) (i / n % busy.roomsPerClient())) + "\","
                        + Payload.of(fleet.nextSeq(), due, sizes.payloadChars()));
            };
            int roomSize = busy.roomSize();
            warmUntilJitQuiet("S7", publish, busy.deliveriesPerSecond() / roomSize);
            record(fanOut("S7", fleet, publish, busy.deliveriesPerSecond() / roomSize, busy.rooms(), roomSize), S7_BUSY);
        }
    }

    // ---- S5: reconnect storm ----

    /**
     * Clients in rooms drop while a publisher goes on, and come back asking to recover: all of
     * them on a server on its own; on a cluster, those of the last node, which is killed, and they
     * come back to node 0.
     */
    private void reconnectStorm() {
        int n = sizes.stormClients();
        int rooms = sizes.stormRooms();
        try (Fleet fleet = fleet()) {
            List<Client> members = fleet.connect(n, i -> i % rooms);
            Client publisher = fleet.connect(1, i -> -1).get(0);
            OpenLoop.Action publish = (i, due) -> publisher.send("publish",
                    "\"r" + (i % rooms) + "\"," + Payload.of(fleet.nextSeq(), due, sizes.payloadChars()));
            fleet.window(fleet.lastSeq() + 1, Long.MAX_VALUE);
            // The publisher keeps going through the outage: that is what the clients must recover.
            double seconds = sizes.warmSeconds() + sizes.outageSeconds() + sizes.measureSeconds() / 2;
            AtomicReference<OpenLoop.Result> published = new AtomicReference<>();
            Thread publisherThread = new Thread(() -> published.set(OpenLoop.run(sizes.stormRate(), seconds, publish)), "storm-publisher");
            publisherThread.start();
            Fleet.sleep((long) (sizes.warmSeconds() * 1000));
            List<Client> away = multiNode() ? killLastNode(members) : members;
            away.forEach(Client::drop);
            Fleet.sleep((long) (sizes.outageSeconds() * 1000));
            long reconnectStart = System.nanoTime();
            int retried = fleet.reopen(away, 3);
            if (retried > 0) {
                results.note("S5: " + retried + " reconnections dropped or refused on the way and retried");
            }
            long allBack = away.stream().mapToLong(c -> c.backAt).max().orElse(reconnectStart);
            double backMs = (allBack - reconnectStart) / 1e6;
            join(publisherThread);
            if (publisherThread.isAlive() || published.get() == null) {
                throw new IllegalStateException("the publisher did not finish");
            }
            long expected = published.get().sent() * (n / rooms);
            long delivered = await(fleet::inWindow, expected, 3);
            long recovered = away.stream().filter(Client::recovered).count();
            long eventsRecovered = away.stream().mapToLong(c -> c.recoveredEvents).sum();
            results.put(Metric.S5_DROPPED, away.size());
            results.put(Metric.S5_BACK_MS, backMs);
            if (target.recovers()) {
                results.put(Metric.S5_RECOVERED, recovered);
                results.put(Metric.S5_EVENTS_RECOVERED, eventsRecovered);
            } else {
                results.put(Metric.S5_RECOVERED, Double.NaN);
                results.put(Metric.S5_EVENTS_RECOVERED, Double.NaN);
                results.note("S5: no connection-state recovery: the clients come back as new sockets and join again;"
                        + " what was sent meanwhile counts as missed");
            }
            results.put(Metric.S5_MISSED, expected - delivered);
            results.put(Metric.S5_DUPLICATES, fleet.duplicates());
            results.put(Metric.S5_OUT_OF_ORDER, fleet.outOfOrder());
            if (fleet.firstOutOfOrder() != null) {
                log.println("  S5 the first delivery out of order: " + fleet.firstOutOfOrder());
            }
            if (published.get().behind()) {
                results.invalid("S5: the publisher fell behind its schedule", Metric.S5_MISSED);
            }
            log.printf("  S5 %d dropped, back in %.0f ms after a %.0f ms outage; %d recovered, %d events recovered, %d of %d missed, %d duplicates%n",
                    away.size(), backMs, sizes.outageSeconds() * 1000, recovered, eventsRecovered, expected - delivered, expected, fleet.duplicates());
        }
    }

    /**
     * Kills the cluster's last node (kill -9) and points its clients at node 0, as a load balancer
     * would send them; returns them. The drop they then make changes nothing on the dead node: it
     * saved nothing at the end, and what the cluster kept of their sessions is all they can recover.
     */
    private List<Client> killLastNode(List<Client> members) {
        List<InetSocketAddress> nodes = server.addresses();
        int last = nodes.size() - 1;
        List<Client> orphans = members.stream().filter(c -> c.address().equals(nodes.get(last))).toList();
        try {
            server.kill(last);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        orphans.forEach(c -> c.moveTo(nodes.get(0)));
        results.note(String.format("S5: node %d of %d killed (kill -9) with %d of the %d clients, which came back to node 0",
                last, nodes.size(), orphans.size(), members.size()));
        return orphans;
    }

    // ---- helpers ----

    /** Waits until {@code count} reaches {@code expected}, at most {@code seconds}; returns the count. */
    static long await(LongSupplier count, long expected, double seconds) {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long now = count.getAsLong();
        long last = now;
        long quietSince = System.nanoTime();
        while (now < expected && System.nanoTime() < deadline) {
            Fleet.sleep(20);
            now = count.getAsLong();
            if (now != last) {
                last = now;
                quietSince = System.nanoTime();
            } else if (System.nanoTime() - quietSince > TimeUnit.SECONDS.toNanos(1) && now > 0) {
                break;   // nothing arrived for a second: the rest is lost, not late
            }
        }
        return now;
    }

    private static void join(Thread thread) {
        try {
            thread.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static double ms(Histogram histogram, double percentile) {
        return histogram.getTotalCount() == 0 ? Double.NaN : histogram.getValueAtPercentile(percentile) / 1000.0;
    }

    /** CPU of the server and of the generator over one phase. */
    private final class Meter {
        private final long startNanos = System.nanoTime();
        private final double userStart = server.userSeconds();
        private final double systemStart = server.systemSeconds();
        private final long switchesStart = server.contextSwitches();
        private final long syscallsStart = server.syscalls();
        private final double generatorStart = ProcStats.ownCpuSeconds();
        private final double waitStart = server.runQueueWaitSeconds();
        private final double jitStart = server.jitCpuSeconds();

        /**
         * @param serverCpu  the server's user and system CPU seconds
         * @param serverWait seconds the server's threads waited for a CPU (other work, or its own threads)
         * @param serverJit  seconds of the server's CPU spent by its JIT compiler threads (JVMs only)
         * @param switches   the server's context switches
         * @param syscalls   the server's read- and write-family system calls
         */
        record Phase(double seconds, double serverCpu, double serverUser, double serverSystem, double generatorCpu,
                     double serverWait, double serverJit, long switches, long syscalls) {
            double serverShare() {
                return serverCpu / seconds;
            }

            /** The server's wait for a CPU, per second of the phase. */
            double serverWaitShare() {
                return serverWait / seconds;
            }

            /** The generator's share of the cores it may run on. */
            double generatorShare() {
                return generatorCpu / seconds / Runtime.getRuntime().availableProcessors();
            }

            boolean generatorSaturated() {
                return generatorShare() > GENERATOR_SATURATED;
            }

            /** Why figures of this phase say nothing about the server, or null when they do. */
            String invalidBecause(OpenLoop.Result schedule) {
                List<String> why = new ArrayList<>();
                if (schedule.behind()) {
                    why.add(String.format("the generator ended %.0f ms behind its schedule", schedule.endLagNanos() / 1e6));
                }
                if (generatorSaturated()) {
                    why.add(String.format("the generator used %.0f%% of its CPU", generatorShare() * 100));
                }
                return why.isEmpty() ? null : String.join("; ", why);
            }
        }

        Phase finish() {
            double user = server.userSeconds() - userStart;
            double system = server.systemSeconds() - systemStart;
            return new Phase((System.nanoTime() - startNanos) / 1e9, user + system, user, system,
                    ProcStats.ownCpuSeconds() - generatorStart, server.runQueueWaitSeconds() - waitStart,
                    server.jitCpuSeconds() - jitStart, server.contextSwitches() - switchesStart,
                    server.syscalls() - syscallsStart);
        }
    }
}
