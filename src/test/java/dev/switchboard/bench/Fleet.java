package dev.switchboard.bench;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntUnaryOperator;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The simulated clients of one run against one server, all on one selector thread, and what they
 * measured: latencies in an HdrHistogram (microseconds), deliveries, losses and duplicates.
 * A control client, in no room, asks the server for its {@code stats}.
 *
 * <p>Against a cluster, room members take the nodes in turn and clients in no room (the control
 * client, publishers) go to node 0, so that a room's members sit on every node and a publish on
 * node 0 must cross the cluster to reach half of them.
 */
final class Fleet implements AutoCloseable {
    /** Upgrades in flight at once: more would overflow the servers' accept backlogs into SYN retries. */
    private static final int CONNECTS_IN_FLIGHT = 256;

    /** What a server reports about itself. */
    record Stats(long heapBytes, long maxQueuedBytes, long connections) {
    }

    private final WsLoop loop = new WsLoop("generator-io");
    private final Wire wire;
    /** The nodes, node 0 first. */
    private final List<InetSocketAddress> addresses;
    /** How many room members were placed: the next takes node {@code placed % nodes}. */
    private final AtomicInteger placed = new AtomicInteger();
    private final Recorder latency = new Recorder(3_600_000_000L, 3);
    private final LongAdder received = new LongAdder();
    private final LongAdder inWindow = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder outOfOrder = new LongAdder();
    /** The first delivery that came after a later one, described; null while none did. */
    private volatile String firstOutOfOrder;
    private final LongAdder echoAcks = new LongAdder();
    private final LongAdder errors = new LongAdder();
    /**
     * Unique across every fleet of the run: a cluster node delivers when it reads the log, so an
     * event of an earlier phase that a lagging node reads late can reach a client of this phase
     * that joined a room of the same name meanwhile; with numbers of its own it is never taken
     * for one of this phase's (as a duplicate, or as a delivery).
     */
    private static final AtomicLong SEQS = new AtomicLong();
    /** How many of the fleet's room members got each {@code notice(n)}, by n; written on the selector thread. */
    private final Map<Long, AtomicInteger> notices = new ConcurrentHashMap<>();
    private volatile boolean measuring;
    /** False when several connections publish: their deliveries may overtake one another. */
    private volatile boolean ordered = true;
    private volatile long windowFrom = Long.MAX_VALUE;
    private volatile long windowTo = Long.MAX_VALUE;
    private volatile String lastError;
    private final Client control;
    /** Every client this fleet connected, the control client first. */
    private final List<Client> clients = new CopyOnWriteArrayList<>();

    Fleet(Wire wire, InetSocketAddress address) {
        this(wire, List.of(address));
    }

    Fleet(Wire wire, List<InetSocketAddress> addresses) {
        this.wire = wire;
        this.addresses = List.copyOf(addresses);
        this.control = connect(1, i -> -1).get(0);
    }

    WsLoop loop() {
        return loop;
    }

    Wire wire() {
        return wire;
    }

    /** Node 0's address. */
    InetSocketAddress address() {
        return addresses.get(0);
    }

    /** The node a new client in {@code room} (-1 for none) connects to. */
    InetSocketAddress place(int room) {
        return room < 0 ? address() : addresses.get(placed.getAndIncrement() % addresses.size());
    }

    /** Connects {@code count} clients, each joining room {@code roomOf(i)} (-1 for none). */
    List<Client> connect(int count, IntUnaryOperator roomOf) {
        return connect(count, roomOf, 0);
    }

    /** Same, with a socket receive buffer of {@code receiveBuffer} bytes (0 for the system's). */
    List<Client> connect(int count, IntUnaryOperator roomOf, int receiveBuffer) {
        List<Client> clients = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            clients.add(new Client(this, roomOf.applyAsInt(i), receiveBuffer));
        }
        this.clients.addAll(clients);
        open(clients, false);
        return clients;
    }

    /**
     * Opens the clients, {@link #CONNECTS_IN_FLIGHT} at a time; with {@code resume}, each asks to
     * recover its previous session. Returns when all are connected and in their rooms.
     */
    void open(List<Client> clients, boolean resume) {
        Semaphore inFlight = new Semaphore(CONNECTS_IN_FLIGHT);
        List<CompletableFuture<Client>> all = new ArrayList<>(clients.size());
        try {
            for (Client client : clients) {
                if (!inFlight.tryAcquire(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("connections stalled: the server accepts none");
                }
                all.add(client.open(resume).whenComplete((c, error) -> inFlight.release()));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            long failed = all.stream().filter(f -> !f.isDone() || f.isCompletedExceptionally()).count();
            throw new IllegalStateException(failed + " of " + clients.size() + " clients could not connect", e);
        }
    }

    /**
     * Opens the clients asking to recover, and again, up to {@code attempts} times in all, those
     * that the server dropped or refused on the way, as real clients retry; returns how many retried.
     */
    int reopen(List<Client> clients, int attempts) {
        List<Client> left = clients;
        int retried = 0;
        for (int attempt = 1; ; attempt++) {
            try {
                open(left, true);
                return retried;
            } catch (IllegalStateException e) {
                left = left.stream().filter(c -> !c.isOpen()).toList();
                if (attempt == attempts) {
                    throw e;
                }
                retried += left.size();
            }
        }
    }

    /** Disconnects the clients on purpose and waits until the server counts only {@code remaining} connections. */
    void leave(List<Client> clients, long remaining) {
        clients.forEach(Client::leave);
        awaitConnections(remaining);
    }

    /** Waits (10 s at most) until the server counts {@code count} connections or fewer. */
    boolean awaitConnections(long count) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (stats(false).connections() <= count) {
                return true;
            }
            sleep(100);
        }
        return false;
    }

    /** Asks the server for its figures; with {@code gc}, after full collections. */
    Stats stats(boolean gc) {
        try {
            String ack = control.call("stats", Boolean.toString(gc)).get(60, TimeUnit.SECONDS);
            return new Stats(field(ack, "heap"), field(ack, "queue"), field(ack, "conns"));
        } catch (Exception e) {
            throw new IllegalStateException("no stats from the server", e);
        }
    }

    private static long field(String frame, String name) {
        String key = "\"" + name + "\":";
        return Frames.number(frame, frame.indexOf(key) + key.length());
    }

    // ---- what the clients measure ----

    /** The next sequence number for a payload. */
    long nextSeq() {
        return SEQS.incrementAndGet();
    }

    long lastSeq() {
        return SEQS.get();
    }

    /**
     * Several clients publish from now on: a server handling their connections on different
     * threads, or in the order its selector lists them, may deliver a later sequence number first,
     * which is no duplicate. Duplicates are not counted then.
     */
    void unordered() {
        ordered = false;
    }

    /** Latencies are recorded only while on. */
    void measuring(boolean on) {
        measuring = on;
    }

    /** Counts deliveries of payloads whose sequence number is in {@code [from, to)}. */
    void window(long from, long to) {
        inWindow.reset();
        outOfOrder.reset();
        firstOutOfOrder = null;
        windowFrom = from;
        windowTo = to;
    }

    long inWindow() {
        return inWindow.sum();
    }

    long received() {
        return received.sum();
    }

    long duplicates() {
        return duplicates.sum();
    }

    /** Deliveries in the counting window that came after a later one (they count as delivered). */
    long outOfOrder() {
        return outOfOrder.sum();
    }

    String firstOutOfOrder() {
        return firstOutOfOrder;
    }

    /**
     * Marks {@code seq} (in the counting window) as arrived at {@code client}; on the selector
     * thread, which alone touches the client's tally. False when it had arrived already.
     */
    private boolean firstArrival(Client client, long seq) {
        if (client.seenFrom != windowFrom) {
            client.seen.clear();
            client.seenFrom = windowFrom;
        }
        int index = Math.toIntExact(seq - windowFrom);
        if (client.seen.get(index)) {
            return false;
        }
        client.seen.set(index);
        return true;
    }

    long echoAcks() {
        return echoAcks.sum();
    }

    long errors() {
        return errors.sum();
    }

    String lastError() {
        return lastError;
    }

    /** The latencies recorded since the last call. */
    Histogram takeLatencies() {
        return latency.getIntervalHistogram();
    }

    void onMessage(Client client, long seq, long sentAt) {
        long now = System.nanoTime();
        boolean counted = seq >= windowFrom && seq < windowTo;
        if (ordered && seq <= client.lastSeq) {
            if (!counted || !firstArrival(client, seq)) {
                client.duplicates++;
                duplicates.increment();
                return;
            }
            // In the window and never seen: late, not repeated. It counts as delivered.
            outOfOrder.increment();
            if (firstOutOfOrder == null) {
                firstOutOfOrder = "seq " + seq + " after " + client.lastSeq + " (recovered " + client.recovered()
                        + ", dropped " + (client.droppedAt != 0) + ")";
            }
        } else if (counted) {
            firstArrival(client, seq);
        }
        client.lastSeq = Math.max(client.lastSeq, seq);
        received.increment();
        // Socket.IO replays before its connect answer, Switchboard after: the new upgrade is what both
        // follow. Only on the new connection: the old one may still read a little before the drop lands.
        if (client.reopenedAt > client.droppedAt && client.droppedAt != 0
                && sentAt >= client.droppedAt && sentAt < client.reopenedAt) {
            client.recoveredEvents++;
        }
        if (counted) {
            inWindow.increment();
        }
        if (measuring) {
            latency.recordValue(Math.max(0, (now - sentAt) / 1000));
        }
    }

    void onEchoAck(long sentAt) {
        long now = System.nanoTime();
        echoAcks.increment();
        if (measuring) {
            latency.recordValue(Math.max(0, (now - sentAt) / 1000));
        }
    }

    void onNotice(long departure) {
        notices.computeIfAbsent(departure, n -> new AtomicInteger()).incrementAndGet();
    }

    /** How many of the fleet's room members have received {@code notice(departure)}. */
    int notices(long departure) {
        AtomicInteger count = notices.get(departure);
        return count == null ? 0 : count.get();
    }

    void onError(String frame) {
        errors.increment();
        lastError = frame;
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * The clients leave on purpose first, as an application's {@code disconnect()} does, so that
     * no session of this phase waits on the server for its client to recover while the next phase
     * is measured: on Switchboard a waiting session still takes its rooms' broadcasts into its
     * replay log, on socket.io it costs nothing per broadcast.
     */
    @Override
    public void close() {
        List<Client> open = clients.stream().filter(c -> c != control && c.isOpen()).toList();
        if (!open.isEmpty() && control.isOpen()) {
            try {
                leave(open, 1);
            } catch (IllegalStateException e) {
                // The server no longer answers: it has no sessions to keep.
            }
        }
        loop.close();
    }
}
