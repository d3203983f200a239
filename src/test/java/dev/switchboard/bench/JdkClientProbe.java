package dev.switchboard.bench;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Why the generator has its own WebSocket client: the same fan-out (one room of N, five
 * publishes a second, against the raw floor) received once by N {@code java.net.http.WebSocket}s
 * and once by N {@link WsLoop} connections, with this JVM's CPU time per message received.
 * Usage: {@code java -cp <test classpath> dev.switchboard.bench.JdkClientProbe [clients]}.
 */
public final class JdkClientProbe {
    private static final double PUBLISHES_PER_SECOND = 5;
    private static final double SECONDS = 6;

    private JdkClientProbe() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        try (LaunchedServer server = Target.RAW.start(Path.of("").toAbsolutePath(), Path.of("target", "bench"),
                LaunchedServer.canPin(), null)) {
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", server.port());
            // Twice each, alternating: the first round warms the JIT up.
            for (int round = 1; round <= 2; round++) {
                System.out.printf("round %d, JDK java.net.http.WebSocket: %s%n", round, jdk(address, n));
                System.out.printf("round %d, WsLoop (the generator's):    %s%n", round, wsLoop(address, n));
            }
        }
        System.exit(0);
    }

    private static String jdk(InetSocketAddress address, int n) throws Exception {
        ExecutorService executor = Executors.newFixedThreadPool(2);
        HttpClient http = HttpClient.newBuilder().executor(executor).build();
        URI uri = URI.create("ws://127.0.0.1:" + address.getPort() + Wire.SWITCHBOARD.path());
        LongAdder received = new LongAdder();
        List<WebSocket> sockets = new ArrayList<>();
        long threadsBefore = Thread.activeCount();
        long heapBefore = Heap.used(true);
        for (int i = 0; i < n; i++) {
            CompletableFuture<Void> joined = new CompletableFuture<>();
            WebSocket ws = http.newWebSocketBuilder().buildAsync(uri, new WebSocket.Listener() {
                private final StringBuilder partial = new StringBuilder();

                @Override
                public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                    partial.append(data);
                    if (last) {
                        String frame = partial.toString();
                        partial.setLength(0);
                        if (frame.startsWith("{\"type\":\"hello\"")) {
                            socket.sendText(Wire.SWITCHBOARD.connect(null, null), true);
                        } else if (frame.startsWith("{\"type\":\"connect\"")) {
                            socket.sendText(Wire.SWITCHBOARD.emit("join", 1, "\"r0\""), true);
                        } else if (frame.startsWith("{\"type\":\"ack\"")) {
                            joined.complete(null);
                        } else if (frame.startsWith("{\"type\":\"event\"")) {
                            received.increment();
                        }
                    }
                    socket.request(1);
                    return null;
                }
            }).get(30, TimeUnit.SECONDS);
            joined.get(30, TimeUnit.SECONDS);
            sockets.add(ws);
        }
        long threads = Thread.activeCount() - threadsBefore;
        String heap = heapPerClient(n, heapBefore);
        WebSocket publisher = sockets.get(0);
        String result = measure(received, n, (i, due) -> publisher.sendText(Wire.SWITCHBOARD.emit("publish", 0,
                "\"r0\"," + Payload.of(i, due, 100)), true).join()) + ", " + threads + " threads, " + heap;
        sockets.forEach(WebSocket::abort);
        executor.shutdownNow();
        return result;
    }

    private static String wsLoop(InetSocketAddress address, int n) {
        long heapBefore = Heap.used(true);
        try (Fleet fleet = new Fleet(Wire.SWITCHBOARD, address)) {
            fleet.connect(n, i -> 0);
            String heap = heapPerClient(n, heapBefore);
            Client publisher = fleet.connect(1, i -> -1).get(0);
            LongAdder received = new LongAdder() {
                @Override
                public long sum() {
                    return fleet.received();
                }
            };
            return measure(received, n, (i, due) -> publisher.send("publish",
                    "\"r0\"," + Payload.of(fleet.nextSeq(), due, 100))) + ", 1 thread, " + heap;
        }
    }

    private static String heapPerClient(int n, long heapBefore) {
        return String.format("%.1f KiB of heap per connection", (Heap.used(true) - heapBefore) / 1024.0 / n);
    }

    private static String measure(LongAdder received, int n, OpenLoop.Action publish) {
        long before = received.sum();
        double cpu = ProcStats.ownCpuSeconds();
        long start = System.nanoTime();
        OpenLoop.Result run = OpenLoop.run(PUBLISHES_PER_SECOND, SECONDS, publish);
        long expected = run.sent() * n;
        while (received.sum() - before < expected && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30)) {
            Fleet.sleep(20);
        }
        long got = received.sum() - before;
        double seconds = (System.nanoTime() - start) / 1e9;
        double used = ProcStats.ownCpuSeconds() - cpu;
        return String.format("%d of %d messages in %.1f s, %.1f µs of generator CPU per message (%.0f%% of a core)",
                got, expected, seconds, used * 1e6 / Math.max(got, 1), used / seconds * 100);
    }
}
