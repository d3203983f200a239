package dev.switchboard.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.switchboard.testing.RawTcp;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The CPU that the broadcasting thread spends per delivery, user and system apart: one room of
 * {@code members} raw WebSocket clients on the standalone server, which one thread of this process
 * reads and throws away, and {@code broadcasts} emits to the room per round from the main thread.
 * On the standalone server a broadcast is written to each member's socket on the emitting thread,
 * so this is the delivery path alone. Thread CPU time counts only that thread's own time, so other
 * processes on a noisy machine move it much less than the whole-server figures of
 * {@link BenchMain}: the tool for comparing two builds of the path, run one after the other.
 * Beside it, the CPU of the server's other threads per delivery (the process's, less the
 * broadcaster and the reader), over the round and the pause after it: what a delivery leaves
 * the JVM to do elsewhere, its collector and G1's refinement threads.
 *
 * <pre>{@code
 * bench/run.sh --broadcaster-cpu 2000 100     # members (2000), broadcasts per round (100); 7 rounds
 * }</pre>
 */
public final class BroadcasterCpu {
    private static final int ROUNDS = 7;

    private BroadcasterCpu() {
    }

    public static void main(String[] args) throws Exception {
        int members = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int broadcasts = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        try (TestServer server = TestServer.start(switchboard -> switchboard.onConnection(socket -> socket.join("room")));
             Selector selector = Selector.open()) {
            for (int i = 0; i < members; i++) {
                join(server.port(), selector);
            }
            Thread reader = new Thread(() -> readAndDiscard(selector), "members");
            reader.setDaemon(true);
            reader.start();
            while (server.switchboard().root().in("room").fetchSockets().join().size() < members) {
                Thread.sleep(50);
            }
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            OperatingSystemMXBean process = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            String filler = "x".repeat(100);
            double[] cpu = new double[ROUNDS];
            double[] user = new double[ROUNDS];
            double[] others = new double[ROUNDS];
            long deliveries = (long) members * broadcasts;
            for (int round = 0; round < ROUNDS; round++) {
                long cpuBefore = threads.getCurrentThreadCpuTime();
                long userBefore = threads.getCurrentThreadUserTime();
                long othersBefore = process.getProcessCpuTime() - cpuBefore - threads.getThreadCpuTime(reader.getId());
                for (int i = 0; i < broadcasts; i++) {
                    server.switchboard().to("room").emit("tick", i, filler);
                }
                cpu[round] = (threads.getCurrentThreadCpuTime() - cpuBefore) / 1000.0 / deliveries;
                user[round] = (threads.getCurrentThreadUserTime() - userBefore) / 1000.0 / deliveries;
                Thread.sleep(300);   // the members catch up: the next round starts with empty sockets
                // Counted after the pause, which takes in what the round left the JVM to do (GC, G1's refinement).
                long othersAfter = process.getProcessCpuTime() - threads.getCurrentThreadCpuTime()
                        - threads.getThreadCpuTime(reader.getId());
                others[round] = (othersAfter - othersBefore) / 1000.0 / deliveries;
                System.out.printf("round %d: %d deliveries, broadcaster CPU %.2f µs a delivery (user %.2f, system %.2f),"
                                + " the server's other threads %.2f%n",
                        round, deliveries, cpu[round], user[round], cpu[round] - user[round], others[round]);
            }
            System.out.printf("median of rounds 1 to %d: broadcaster CPU %.2f µs a delivery, user %.2f;"
                    + " the server's other threads %.2f%n", ROUNDS - 1, median(cpu), median(user), median(others));
        }
    }

    /** Upgrades, connects to the default namespace, and leaves the rest to the reader. */
    private static void join(int port, Selector selector) throws IOException {
        SocketChannel channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
        channel.write(ByteBuffer.wrap(RawTcp.upgradeRequest(port, "/switchboard", "")));
        channel.read(ByteBuffer.allocate(4096));   // the 101, and the hello with it or after: the reader discards the rest
        channel.write(ByteBuffer.wrap(RawTcp.frame(0x81, "{\"type\":\"connect\"}".getBytes(StandardCharsets.UTF_8))));
        channel.configureBlocking(false);
        channel.register(selector, SelectionKey.OP_READ);
    }

    private static void readAndDiscard(Selector selector) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 16);
        try {
            while (selector.isOpen()) {
                selector.select(100);
                for (SelectionKey key : selector.selectedKeys()) {
                    do {
                        buffer.clear();
                    } while (((SocketChannel) key.channel()).read(buffer) > 0);
                }
                selector.selectedKeys().clear();
            }
        } catch (IOException | RuntimeException e) {
            // The run is over: the selector or its channels closed.
        }
    }

    /** The median of every round but the first, which carries the compiler's warm-up. */
    private static double median(double[] rounds) {
        double[] warm = Arrays.copyOfRange(rounds, 1, rounds.length);
        Arrays.sort(warm);
        return warm[warm.length / 2];
    }
}
